import { parse as parseYaml } from 'yaml';

/**
 * `${env:VAR}` and `${env:VAR:-default}` substitution, as in the Collector: applied to every string
 * value after the YAML is parsed, so a value cannot inject YAML structure. When a whole value is
 * one reference, the substituted text is read as a YAML scalar, so `${env:PORT}` can be a number
 * and `${env:ENABLED}` a boolean. `$$` is a literal `$`.
 *
 * Every substituted value remembers where it came from (`origins`, by config path), so that
 * messages can name the variable to change and never echo a value that came from the environment
 * (it may be a secret).
 */
const REF = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;
const MALFORMED = /\$\{(?!env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})[^}]*\}?/;

/** One `${env:...}` reference and how it was resolved. */
export interface EnvReference {
  readonly name: string;
  /** `set`: the variable's value was used; `default`: the `:-default`; `unset`: "" (no default). */
  readonly resolution: 'set' | 'default' | 'unset';
}

/** Where a substituted config value came from. */
export interface EnvOrigin {
  /** The value as written in the file, e.g. `${env:JAEGER_OTLP_ENDPOINT:-jaeger:4317}`. */
  readonly template: string;
  /** True when the whole value was one reference. */
  readonly whole: boolean;
  readonly references: readonly EnvReference[];
  /** The text after substitution (before a whole value is read as a YAML scalar). */
  readonly text: string;
}

/** Config path (`exporters.otlp/jaeger.endpoint`) -> where its value came from. */
export type EnvOrigins = ReadonlyMap<string, EnvOrigin>;

export interface SubstitutionResult {
  value: unknown;
  /** Variables referenced without a default and not set: they expand to "" (a warning, not an error). */
  unset: string[];
  /** Problems with their path, such as a malformed reference. */
  problems: string[];
  origins: Map<string, EnvOrigin>;
}

export function substituteEnv(
  input: unknown,
  env: Readonly<Record<string, string | undefined>>,
): SubstitutionResult {
  const unset = new Set<string>();
  const problems: string[] = [];
  const origins = new Map<string, EnvOrigin>();

  const lookup = (name: string, fallback: string | undefined, refs: EnvReference[]): string => {
    const v = env[name];
    if (v !== undefined && v !== '') {
      refs.push({ name, resolution: 'set' });
      return v;
    }
    if (fallback !== undefined) {
      refs.push({ name, resolution: 'default' });
      return fallback;
    }
    refs.push({ name, resolution: 'unset' });
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
      const refs: EnvReference[] = [];
      const whole = WHOLE.exec(value);
      if (whole) {
        const text = lookup(whole[1]!, whole[2], refs);
        origins.set(path, { template: value, whole: true, references: refs, text });
        return text === '' ? '' : scalar(text);
      }
      const text = value.replace(
        REF,
        (m, name: string | undefined, fallback: string | undefined) =>
          m === '$$' ? '$' : lookup(name!, fallback, refs),
      );
      if (refs.length > 0)
        origins.set(path, { template: value, whole: false, references: refs, text });
      return text;
    }
    if (Array.isArray(value)) return value.map((v, i) => visit(v, `${path}[${i}]`));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = visit(v, path ? `${path}.${k}` : k);
      return out;
    }
    return value;
  };

  return { value: visit(input, ''), unset: [...unset].sort(), problems, origins };
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
