import type { z } from 'zod';
import { didYouMean, keysAt } from './suggest.js';

/** What `formatIssues` may know besides the issues. */
export interface IssueContext {
  /** The schema that produced the issues: unknown settings get a "did you mean". */
  readonly schema?: z.ZodType;
  /**
   * How to show the value at a path instead of quoting it (values that came from environment
   * variables are never echoed: they may be secrets).
   */
  readonly shown?: (path: string) => string | undefined;
}

/**
 * Turns zod issues into the config problem lines users read: `path: what is wrong`, with the
 * path in dotted form (`exporters.otlp/jaeger.retry_on_failure.max_interval`).
 */
export function formatIssues(
  prefix: string,
  error: z.ZodError,
  context: IssueContext = {},
): string[] {
  const out: string[] = [];
  for (const issue of error.issues) collect(prefix, [], issue, out, context);
  return out;
}

function collect(
  prefix: string,
  base: readonly PropertyKey[],
  issue: z.core.$ZodIssue,
  out: string[],
  context: IssueContext,
): void {
  const fullPath = [...base, ...issue.path];
  const path = joinPath(prefix, fullPath);
  const describe = (v: unknown) => {
    const shown = context.shown?.(path);
    return shown === undefined ? describeValue(v) : `${shown} (${typeOf(v)})`;
  };
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = context.schema ? keysAt(context.schema, fullPath) : [];
      for (const key of issue.keys) {
        out.push(`${joinPath(path, [key])}: unknown setting${didYouMean(key, known)}`);
      }
      return;
    }
    case 'invalid_type':
      out.push(`${path}: expected ${article(issue.expected)}, got ${describe(issue.input)}`);
      return;
    case 'invalid_value': {
      const hint =
        typeof issue.input === 'string' && context.shown?.(path) === undefined
          ? didYouMean(
              issue.input,
              issue.values.filter((v): v is string => typeof v === 'string'),
            )
          : '';
      out.push(
        `${path}: ${describe(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${hint}`,
      );
      return;
    }
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
        for (const sub of issue.errors[0]!) collect(prefix, fullPath, sub, out, context);
        return;
      }
      out.push(`${path}: ${issue.message}`);
      return;
    }
    default:
      out.push(`${path}: ${issue.message}`);
  }
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
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

function typeOf(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return article(typeof v);
}

function describeValue(v: unknown): string {
  if (v === undefined || v === null || typeof v === 'object') return typeOf(v);
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 57)}...` : v}"`;
  return `${typeof v} ${String(v)}`;
}
