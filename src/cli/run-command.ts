import { ConfigError, errorMessage } from '../component/errors.js';
import { startSidecar, type Sidecar } from '../main.js';
import { configOption, type CommandContext } from './command.js';
import { printProblems } from './problems.js';

/**
 * A signal repeated within this time counts once: `npm start` forwards a terminal's Ctrl-C to
 * the sidecar, which got it from the terminal too; that is one request to stop, not two.
 */
const SAME_SIGNAL_MS = 1000;

const RUN_USAGE = `usage: hourglass run [--config FILE]

Runs the sidecar until SIGTERM or SIGINT (Ctrl-C), then stops the receivers, drains the pipeline
and flushes the exporters (exit 0); a second signal exits at once (1). Exit 1 when the config has
problems (printed with their paths) or a server cannot listen.

options:
  --config FILE   the config; else $HOURGLASS_CONFIG, else ./otel-config.yaml, else the built-in
                  default config`;

/**
 * `hourglass run`: starts the sidecar and runs until SIGTERM or SIGINT, then stops the receivers,
 * drains the pipeline and flushes the exporters (exit 0). A second signal exits at once (1).
 */
export async function runCommand(args: string[], context: CommandContext): Promise<number> {
  const { config, flags } = configOption('run', args, {
    help: { type: 'boolean', default: false },
  });
  if (flags['help']) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar({ configPath: config });
  } catch (err) {
    if (err instanceof ConfigError) {
      printProblems(`hourglass: ${config}`, err.problems);
      return 1;
    }
    process.stderr.write(`hourglass: cannot start: ${errorMessage(err)}\n`);
    return 1;
  }
  const { logger } = sidecar;
  return new Promise<number>((resolve) => {
    let first: { reason: string; at: number } | undefined;
    const stop = (reason: string) => {
      const now = Date.now();
      if (first) {
        if (reason === first.reason && now - first.at < SAME_SIGNAL_MS) return;
        logger.warn({ signal: reason }, 'second signal: exiting without waiting for the drain');
        resolve(1);
        return;
      }
      first = { reason, at: now };
      logger.info({ signal: reason }, 'shutting down: stopping receivers, draining the pipeline');
      sidecar.shutdown().then(
        () => {
          logger.info('shutdown complete');
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    context.onOutputClosed(() => stop('stdout closed'));
    process.on('unhandledRejection', (err) => {
      logger.error({ err }, 'unhandled promise rejection (kept serving)');
    });
  });
}
