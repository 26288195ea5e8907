import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageProblem } from '../../src/cli/args.js';
import {
  anomalyProcessorSchema,
  type AnomalyProcessorConfig,
} from '../../src/detectors/anomaly/config.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * A benchmark's command-line options, parsed as `node:util` parseArgs does, but as a newcomer
 * expects of a command (the CLI's messages, src/cli/args.ts): `--help` prints `usage` and the
 * options, and exits 0; an unknown option (with the closest name), a missing value or an
 * argument it does not take says what was wrong and how to ask for help, and exits 2 (no stack
 * trace). A benchmark without options passes `{}`: it refuses any, rather than ignore them.
 */
export function benchArgs<O extends Options>(
  script: string,
  usage: string,
  options: O,
  argv: readonly string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  if (argv.includes('--help') || argv.includes('-h')) {
    // A benchmark without options (set by environment variables) says so, not an empty list.
    const lines = optionLines(options);
    console.log(`${usage.trim()}\n\noptions:${lines === '' ? ' none' : `\n${lines}`}`);
    process.exit(0);
  }
  const config = { args: [...argv], options };
  try {
    return parseArgs(config).values;
  } catch (e) {
    return usageError(
      script,
      usageProblem(config, e, `("npm run ${script} -- --help" lists the options)`),
    );
  }
}

/** Says what was wrong with the command line, in one line, and exits 2. */
export function usageError(script: string, problem: string): never {
  console.error(`npm run ${script}: ${problem}`);
  process.exit(2);
}

/**
 * A whole-number option's value (`--weeks 5`), at least `min`; anything else (`--weeks x`) names
 * the option and exits 2.
 */
export function wholeNumberOption(script: string, name: string, text: string, min = 0): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (n >= min) return n;
  return usageError(script, `--${name} "${text}" is not a whole number of at least ${min}`);
}

/**
 * A whole-number environment variable a benchmark reads (`BENCH_SECONDS=10`), `fallback` when
 * unset, at least `min`; anything else (`BENCH_SECONDS=10s`) names the variable and exits 2.
 */
export function envWholeNumber(script: string, name: string, fallback: number, min = 1): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (n >= min) return n;
  return usageError(script, `${name}="${text}" is not a whole number of at least ${min}`);
}

/**
 * A list of whole numbers a benchmark reads from the environment (`BENCH_FLEET_SIZES=1,4,16`), each
 * at least `min`, `fallback` when unset; anything else names the variable and exits 2.
 */
export function envWholeNumbers(
  script: string,
  name: string,
  fallback: readonly number[],
  min = 1,
): number[] {
  const text = process.env[name];
  if (text === undefined || text === '') return [...fallback];
  const list = /^\d+(,\d+)*$/.test(text) ? text.split(',').map(Number) : [];
  if (list.length > 0 && list.every((n) => n >= min)) return list;
  return usageError(
    script,
    `${name}="${text}" is not a list of whole numbers of at least ${min} (e.g. 1,4,16)`,
  );
}

/** A number above 0 a benchmark reads from the environment (`BENCH_SCALE=0.1`); else exits 2. */
export function envPositiveNumber(script: string, name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = text.trim() === '' ? NaN : Number(text);
  if (n > 0 && Number.isFinite(n)) return n;
  return usageError(script, `${name}="${text}" is not a number above 0`);
}

/** A list of whole numbers, comma-separated (`--seeds 1,2,3`); anything else exits 2. */
export function wholeNumbersOption(script: string, name: string, text: string): number[] {
  if (/^\d+(,\d+)*$/.test(text)) return text.split(',').map(Number);
  return usageError(script, `--${name} "${text}" is not a list of whole numbers (e.g. 1,2,3)`);
}

/** A number option's value above 0 (`--volume 0.12`); anything else exits 2. */
export function positiveNumberOption(script: string, name: string, text: string): number {
  const n = text.trim() === '' ? NaN : Number(text);
  if (n > 0 && Number.isFinite(n)) return n;
  return usageError(script, `--${name} "${text}" is not a number above 0`);
}

function optionLines(options: Options): string {
  return Object.entries(options)
    .map(([name, o]) => {
      const value = o.type === 'string' ? ' VALUE' : '';
      const fallback = o.default === undefined ? '' : `  (default: ${String(o.default)})`;
      return `  --${name}${value}${fallback}`;
    })
    .join('\n');
}

/** A JSON option's value; on a syntax error, says which option and exits 2. */
export function jsonOption<T>(script: string, name: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    return usageError(script, `--${name} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * `--set` (or another option or variable, `what`): the anomaly processor's settings, as JSON,
 * validated once before anything runs; what is wrong is said in one line, and exits 2.
 */
export function anomalySettings(
  script: string,
  text: string,
  what = '--set',
): { json: Record<string, unknown>; config: AnomalyProcessorConfig } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return usageError(script, `${what} is not JSON: ${(e as Error).message}`);
  }
  const r = anomalyProcessorSchema.safeParse(json);
  if (r.success) return { json, config: r.data };
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return usageError(script, `${what} is not valid anomaly settings: ${problems.join('; ')}`);
}
