import { parseCommandArgs } from './args.js';
import { defaultConfigPath } from './config-path.js';

/** One `hourglass <command>`. */
export interface Command {
  /** What `hourglass --help` says about it (one or two short lines). */
  readonly summary: string;
  /** Runs it; resolves to the exit code. Usage errors throw (exit 2). */
  run(args: string[], context: CommandContext): Promise<number>;
}

export interface CommandContext {
  /**
   * Registers what to do when stdout is closed under the command (`hourglass ... | head`). By
   * default the command ends at once, quietly; a long-running command stops gracefully instead.
   */
  onOutputClosed(stop: () => void): void;
}

/** A context for commands run in-process (tests): a closed stdout is not watched. */
export const inProcess: CommandContext = { onOutputClosed: () => undefined };

/** `--config FILE` (else $HOURGLASS_CONFIG, else ./otel-config.yaml, else the built-in config). */
export function configOption(
  command: string,
  args: string[],
  flags: Record<string, { type: 'boolean'; default: boolean }> = {},
): { config: string; flags: Record<string, boolean> } {
  const { values } = parseCommandArgs(command, {
    args,
    options: { config: { type: 'string', short: 'c' }, ...flags },
    strict: true,
  });
  const { config, ...rest } = values as Record<string, string | boolean | undefined>;
  const out: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(rest)) out[k] = v === true;
  return {
    config: typeof config === 'string' ? config : defaultConfigPath(),
    flags: out,
  };
}
