import { parse as parseYaml } from 'yaml';

/**
 * `${env:VAR}` and `${env:VAR:-default}` substitution, as in the Collector: applied to every string
 * value after the YAML is parsed, so a value cannot inject YAML structure. When a whole value is
 * one reference, the substituted text is read as a YAML scalar, so `${env:PORT}` can be a number
 * and `${env:ENABLED}` a boolean. `$$` is a literal `$`.
 */
const REF = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;
const MALFORMED = /\$\{(?!env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})[^}]*\}?/;

export interface SubstitutionResult {
  value: unknown;
  /** Variables referenced without a default and not set: they expand to "" (a warning, not an error). */
  unset: string[];
  /** Problems with their path, such as a malformed reference. */
  problems: string[];
}

export function substituteEnv(
  input: unknown,
  env: Readonly<Record<string, string | undefined>>,
): SubstitutionResult {
  const unset = new Set<string>();
  const problems: string[] = [];

  const lookup = (name: string, fallback: string | undefined): string => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    if (v === undefined) unset.add(name);
    return '';
  };

  const visit = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      const bad = stripValid(value).match(MALFORMED);
      if (bad) {
        problems.push(
          `${path || '<root>'}: malformed reference "${bad[0]}": write \${env:NAME} or \${env:NAME:-default}`,
        );
        return value;
      }
      const whole = WHOLE.exec(value);
      if (whole) {
        const text = lookup(whole[1]!, whole[2]);
        return text === '' ? '' : scalar(text);
      }
      return value.replace(REF, (m, name: string | undefined, fallback: string | undefined) =>
        m === '$$' ? '$' : lookup(name!, fallback),
      );
    }
    if (Array.isArray(value)) return value.map((v, i) => visit(v, `${path}[${i}]`));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = visit(v, path ? `${path}.${k}` : k);
      return out;
    }
    return value;
  };

  return { value: visit(input, ''), unset: [...unset].sort(), problems };
}

/** Removes `$$` and valid references, so that what is left can be checked for malformed ones. */
function stripValid(s: string): string {
  return s.replace(REF, '');
}

function scalar(text: string): unknown {
  try {
    const v: unknown = parseYaml(text);
    return v === null || typeof v === 'object' ? text : v;
  } catch {
    return text;
  }
}
