import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  anomalyProcessorSchema,
  type AnomalyProcessorConfig,
} from '../../src/detectors/anomaly/config.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * A benchmark's command-line options, parsed as `node:util` parseArgs does, but as a newcomer
 * expects of a command: `--help` prints `usage` and the options, and exits 0; an unknown option
 * or a missing value says what was wrong and how to ask for help, and exits 2 (no stack trace).
 */
export function benchArgs<O extends Options>(
  script: string,
  usage: string,
  options: O,
  argv: readonly string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`${usage.trim()}\n\noptions:\n${optionLines(options)}`);
    process.exit(0);
  }
  try {
    return parseArgs({ args: [...argv], options }).values;
  } catch (e) {
    console.error(`npm run ${script}: ${(e as Error).message} (npm run ${script} -- --help)`);
    process.exit(2);
  }
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
    console.error(`npm run ${script}: --${name} is not JSON: ${(e as Error).message}`);
    process.exit(2);
  }
}

/**
 * `--set`: the anomaly processor's settings, as JSON, validated once before anything runs;
 * what is wrong is said in one line, and exits 2.
 */
export function anomalySettings(
  script: string,
  text: string,
): { json: Record<string, unknown>; config: AnomalyProcessorConfig } {
  const json = jsonOption<Record<string, unknown>>(script, 'set', text);
  const r = anomalyProcessorSchema.safeParse(json);
  if (r.success) return { json, config: r.data };
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  console.error(`npm run ${script}: --set is not valid anomaly settings: ${problems.join('; ')}`);
  process.exit(2);
}
