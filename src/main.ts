import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './component/clock.js';
import type { Factories } from './component/factory.js';
import { builtinFactories } from './components.js';
import type { Config } from './config/config.js';
import { listenSetting } from './config/address-checks.js';
import { loadConfigFile } from './config/load.js';
import { pluginResolver } from './config/plugins.js';
import type { FactoryResolver } from './config/validate.js';
import { ListenError } from './net/listen.js';
import { Service } from './pipeline/service.js';
import { createLogger } from './telemetry/logger.js';
import { SelfMetrics } from './telemetry/self-metrics.js';
import { TelemetryServer } from './telemetry/server.js';

export interface RunOptions {
  readonly configPath: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** A logger to use instead of the one service.telemetry.logs configures (tests). */
  readonly logger?: Logger;
  readonly factories?: Factories;
  readonly resolver?: FactoryResolver;
}

/** A running sidecar: its graph, its telemetry endpoint, and the way to stop it. */
export interface Sidecar {
  readonly config: Config;
  readonly service: Service;
  readonly telemetry: TelemetryServer | undefined;
  readonly metrics: SelfMetrics;
  readonly logger: Logger;
  shutdown(): Promise<void>;
}

/** Loads the config, builds and starts the graph and the telemetry endpoint. */
export async function startSidecar(options: RunOptions): Promise<Sidecar> {
  const factories = options.factories ?? builtinFactories();
  // Plugin exporters' relative `module` paths are relative to the config file.
  const resolver =
    options.resolver ?? pluginResolver(factories, dirname(resolve(options.configPath)));
  const config = await loadConfigFile(options.configPath, resolver, options.env ?? process.env);
  return startFromConfig(config, options);
}

export async function startFromConfig(
  config: Config,
  options: Pick<RunOptions, 'clock' | 'logger'> = {},
): Promise<Sidecar> {
  const telemetryConfig = config.service.telemetry;
  const logger = options.logger ?? createLogger(telemetryConfig.logs.level);
  const metrics = new SelfMetrics();
  if (config.unsetEnv.length > 0) {
    logger.warn(
      { variables: config.unsetEnv },
      'the config references environment variables that are not set; they expanded to ""',
    );
  }
  const service = new Service(config, { logger, clock: options.clock ?? systemClock, metrics });
  let telemetry: TelemetryServer | undefined;
  if (telemetryConfig.metrics.level !== 'none') {
    telemetry = new TelemetryServer(
      telemetryConfig.metrics.address,
      metrics,
      () => service.isReady(),
      logger.child({ component: 'telemetry' }),
    );
    await telemetry.start().catch((err: unknown) => {
      throw namedListenError(err, config);
    });
  }
  try {
    await service.start();
  } catch (err) {
    await telemetry?.shutdown();
    throw namedListenError(err, config);
  }
  logger.info(
    { config: config.source, pipelines: config.service.pipelines.map((p) => p.id) },
    'hourglass is running',
  );
  let stopping: Promise<void> | undefined;
  return {
    config,
    service,
    telemetry,
    metrics,
    logger,
    shutdown() {
      stopping ??= (async () => {
        await service.shutdown();
        await telemetry?.shutdown();
      })();
      return stopping;
    },
  };
}

/** A server that could not listen, named by the setting (and variable) to change. */
function namedListenError(err: unknown, config: Config): unknown {
  if (!(err instanceof ListenError)) return err;
  const named = listenSetting(config, err.endpoint);
  if (named === undefined) return err;
  // The address as the file has it when a set variable gave it: its value is never echoed, not
  // even in the cause (a logged error's stack shows its cause's message, with the address).
  const message = err.message.split(err.endpoint).join(named.shown);
  return new Error(`${message}: ${named.setting}`);
}
