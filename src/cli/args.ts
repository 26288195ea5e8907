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
    return parseArgs(config);
  } catch (err) {
    throw new Error(usageProblem(command, config, err), { cause: err });
  }
}

function usageProblem(command: string, config: ParseArgsConfig, err: unknown): string {
  const { code, message } = err as { code?: string; message: string };
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const help = `("hourglass ${command} --help" lists the options)`;
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
      return option !== undefined && message.endsWith('argument missing')
        ? `${option} needs a value ${help}`
        : `${message} ${help}`;
    }
    default:
      return message;
  }
}
