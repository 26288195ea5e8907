import type { z } from 'zod';

/**
 * Turns zod issues into the config problem lines users read: `path: what is wrong`, with the
 * path in dotted form (`exporters.otlp/jaeger.retry_on_failure.max_interval`).
 */
export function formatIssues(prefix: string, error: z.ZodError): string[] {
  const out: string[] = [];
  for (const issue of error.issues) collect(prefix, issue, out);
  return out;
}

function collect(prefix: string, issue: z.core.$ZodIssue, out: string[]): void {
  const path = joinPath(prefix, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys) out.push(`${joinPath(path, [key])}: unknown setting`);
      return;
    case 'invalid_type':
      out.push(`${path}: expected ${article(issue.expected)}, got ${describe(issue.input)}`);
      return;
    case 'invalid_value':
      out.push(
        `${path}: ${describe(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      );
      return;
    case 'too_small':
      out.push(
        `${path}: must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}, got ${describe(issue.input)}`,
      );
      return;
    case 'too_big':
      out.push(
        `${path}: must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}, got ${describe(issue.input)}`,
      );
      return;
    case 'invalid_union': {
      if (issue.errors.length > 0 && issue.errors[0]!.length > 0) {
        for (const sub of issue.errors[0]!) collect(path, sub, out);
        return;
      }
      out.push(`${path}: ${issue.message}`);
      return;
    }
    default:
      out.push(`${path}: ${issue.message}`);
  }
}

export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let s = prefix;
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s = s === '' ? String(p) : `${s}.${String(p)}`;
  }
  return s === '' ? '<root>' : s;
}

function article(type: string): string {
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  if (type === 'int') return 'an integer';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 57)}...` : v}"`;
  return `${typeof v} ${String(v)}`;
}
