import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, errorMessage } from '../component/errors.js';
import { builtinFactories } from '../components.js';
import { loadConfigFile } from '../config/load.js';
import { backfillCommand } from '../detectors/anomaly/cli/backfill-command.js';
import { recalculateCommand } from '../detectors/anomaly/cli/recalculate-command.js';
import { replayCommand } from '../detectors/anomaly/cli/replay-command.js';
import { pluginResolver } from '../config/plugins.js';
import { defaultConfigPath, startSidecar, type Sidecar } from '../main.js';

/**
 * `hourglass <command>`: the entry point, and the one place that may exit the process.
 *
 *   run          run the sidecar (the default command)
 *   validate     check a config file and print every problem
 *   recalculate  recalculate the anomaly thresholds now
 *   backfill     seed baselines from a Jaeger query API or OTLP JSON files
 *   replay       run trace files through the anomaly processor offline
 */
const USAGE = `usage: hourglass <command> [--config FILE]

commands:
  run          run the sidecar (default); --config FILE, else $HOURGLASS_CONFIG,
               else ./otel-config.yaml, else the built-in default config
  validate     check a config file and print every problem (exit 1 if any)
  recalculate  recalculate the adaptive severity thresholds now, from the baselines
               in the anomaly processor's SQLite file (see hourglass recalculate --help)
  backfill     seed baselines from OTLP JSON files (--file) or a Jaeger query API
               (--jaeger URL), then recalculate (see hourglass backfill --help)
  replay       run trace files through the anomaly processor offline and print
               what would have been tagged (see hourglass replay --help)

options:
  --config FILE  the Collector-style YAML config
  --help         this text
  --version      print the version`;

export interface Command {
  readonly summary: string;
  run(args: string[]): Promise<number>;
}

const commands = new Map<string, Command>([
  ['run', { summary: 'run the sidecar', run: runCommand }],
  ['validate', { summary: 'check a config file', run: validateCommand }],
  ['recalculate', { summary: 'recalculate anomaly thresholds now', run: recalculateCommand }],
  ['backfill', { summary: 'seed baselines from history', run: backfillCommand }],
  ['replay', { summary: 'replay trace files through the anomaly processor', run: replayCommand }],
]);

function configOption(args: string[]): { config: string; rest: string[] } {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: true,
    strict: true,
  });
  return { config: values.config ?? defaultConfigPath(), rest: positionals };
}

async function validateCommand(args: string[]): Promise<number> {
  const { config: path } = configOption(args);
  try {
    const resolver = pluginResolver(builtinFactories(), dirname(resolve(path)));
    const config = await loadConfigFile(path, resolver);
    const count = (m: ReadonlyMap<string, unknown>) => m.size;
    process.stdout.write(
      `${path}: valid (${count(config.receivers)} receivers, ${count(config.processors)} processors, ` +
        `${count(config.exporters)} exporters, ${count(config.extensions)} extensions; pipelines: ` +
        `${config.service.pipelines.map((p) => p.id).join(', ')})\n`,
    );
    if (config.unsetEnv.length > 0) {
      process.stdout.write(
        `warning: environment variables not set (expanded to ""): ${config.unsetEnv.join(', ')}\n`,
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `${path}: ${err.problems.length} problem(s):\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    throw err;
  }
}

async function runCommand(args: string[]): Promise<number> {
  const { config } = configOption(args);
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar({ configPath: config });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `hourglass: ${config}: ${err.problems.length} problem(s):\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    process.stderr.write(`hourglass: cannot start: ${errorMessage(err)}\n`);
    return 1;
  }
  const { logger } = sidecar;
  return new Promise<number>((resolve) => {
    let signals = 0;
    const stop = (signal: string) => {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
        resolve(1);
        return;
      }
      logger.info({ signal }, 'shutting down: stopping receivers, draining the pipeline');
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
    process.on('unhandledRejection', (err) => {
      logger.error({ err }, 'unhandled promise rejection (kept serving)');
    });
  });
}

export function registerCommand(name: string, command: Command): void {
  commands.set(name, command);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (first === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = commands.get(name);
  if (!command) {
    process.stderr.write(`hourglass: unknown command "${name}"\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (err) {
    process.stderr.write(`hourglass ${name}: ${errorMessage(err)}\n`);
    return 2;
  }
}
