import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../component/errors.js';
import type { Config } from './config.js';
import { substituteEnv } from './env.js';
import { validateConfig, type FactoryResolver, type ValidateOptions } from './validate.js';

/** Parses YAML text; syntax errors become config problems with their line and column. */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The parser may give up several times on one deep nest: its first place is enough.
    const deep = doc.errors.findIndex((e) => e.message.startsWith(STACK_EXCEEDED));
    const errors = doc.errors.filter((e, i) => i === deep || !e.message.startsWith(STACK_EXCEEDED));
    throw new ConfigError(
      errors.map((e) => {
        const pos = e.linePos?.[0];
        const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${first === STACK_EXCEEDED ? TOO_DEEP : first}`;
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof RangeError) throw new ConfigError([`${source}: ${TOO_DEEP}`]);
    // yaml throws a bare ReferenceError on an alias bomb ("billion laughs"): "hourglass validate"
    // ended as on a crash (exit 2) with a message naming neither the file nor what to change.
    throw new ConfigError([
      `${source}: its YAML aliases (*name) expand too far (${errorMessage(err)}); write the repeated values out, or refer to each anchor fewer times`,
    ]);
  }
}

// The parser recurses per level of nesting: a file nested some thousand levels deep runs it out of
// stack, which it reports as V8's bare message at the place it gave up.
const STACK_EXCEEDED = 'Maximum call stack size exceeded';
const TOO_DEEP =
  'its YAML is nested too deeply to read (hundreds of levels of [ ], { } or indentation); write it flatter';

// Each alias may expand to at most this many nodes of its anchor (the yaml library's own default).
const MAX_ALIAS_COUNT = 100;

/** Validates config text (YAML) as it would be at start-up. */
export async function loadConfigText(
  text: string,
  source: string,
  resolve: FactoryResolver,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: Pick<ValidateOptions, 'identity'> = {},
): Promise<Config> {
  const raw = parseYamlText(text, source);
  const { value, unset, problems, origins } = substituteEnv(raw, env);
  if (problems.length > 0) throw new ConfigError(problems);
  return validateConfig(value, resolve, source, { ...options, unsetEnv: unset, origins });
}

/** Reads, parses, substitutes and validates a config file. Throws one ConfigError listing every problem. */
export async function loadConfigFile(
  path: string,
  resolve: FactoryResolver,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: Pick<ValidateOptions, 'identity'> = {},
): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      code === 'ENOENT'
        ? `${path}: no such file; pass --config FILE or run from the directory holding otel-config.yaml`
        : `${path}: cannot read the file (${code ?? String(err)})`,
    ]);
  }
  return loadConfigText(text, path, resolve, env, options);
}
