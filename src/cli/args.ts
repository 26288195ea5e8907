import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../config/suggest.js';

/**
 * `parseArgs` for a command, with messages that say what was wrong and what to do instead of
 * Node's own ("To specify a positional argument starting with a '-', place it at the end of the
 * command after '--'..." for a misspelled option): the closest option for a typo, `--config FILE`
 * for a config file given without it, and where the options are listed.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T) {
  try {
    return parseArgs({ ...config, args: negativeValuesJoined(config) });
  } catch (err) {
    const help = `("hourglass ${command} --help" lists the options)`;
    throw new Error(usageProblem(config, err, help), { cause: err });
  }
}

/**
 * What a `parseArgs` error means for the one who typed the command, in one line ending with
 * `help` (where the options are listed); the benchmarks' options (bench/lib/args.ts) say it too.
 */
export function usageProblem(config: ParseArgsConfig, err: unknown, help: string): string {
  const { code, message } = err as { code?: string; message: string };
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const names = Object.keys(config.options ?? {}).map((n) => `--${n}`);
      const option = quoted.split('=')[0]!;
      return `unknown option ${option}${didYouMean(option, names)} ${help}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return /\.ya?ml$/i.test(quoted) && config.options?.['config'] !== undefined
        ? `unexpected argument "${quoted}"; to name the config, use --config ${quoted}`
        : `unexpected argument "${quoted}" ${help}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = /--[\w-]+/.exec(message)?.[0];
      if (option !== undefined && message.endsWith('argument missing')) {
        return `${option} needs a value ${help}`;
      }
      // `--volume -1`: Node's three lines, in one.
      if (option !== undefined && message.includes('ambiguous')) {
        return `${option} is followed by an option, not its value; for a value starting with "-", write ${option}=VALUE ${help}`;
      }
      return `${message} ${help}`;
    }
    default:
      return message;
  }
}

/**
 * The command line with a negative number or duration after an option that takes a value joined
 * to it (`--shift -336h` -> `--shift=-336h`): `parseArgs` reads `-336h` as options and refuses it
 * as ambiguous, while replay's own help gives `-336h` as the example. A value beginning with `-`
 * and a letter stays an option (`--config -h` is still a missing value).
 */
export function negativeValuesJoined(config: ParseArgsConfig): string[] {
  const args = config.args ?? process.argv.slice(2);
  const options = config.options ?? {};
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (
      name !== undefined &&
      options[name]?.type === 'string' &&
      next !== undefined &&
      /^-\.?\d/.test(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
    if (arg === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
  }
  return out;
}
