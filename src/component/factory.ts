import type { Logger } from 'pino';
import type { z } from 'zod';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import type { Clock } from './clock.js';
import type { Connector, Exporter, Extension, Kind, Processor, Receiver } from './component.js';
import type { Consumer, Signal } from './consumer.js';

/** Everything a factory needs to build a component: no module-level singletons. */
export interface CreateSettings {
  /** The full component id, `type` or `type/name`. */
  readonly id: string;
  /** `logger.child({ component: 'exporter/otlp/jaeger' })`, made by the service. */
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: SelfMetrics;
  /**
   * How to name one of this component's settings to a user who must change it:
   * `JAEGER_OTLP_ENDPOINT (exporters.otlp/jaeger.endpoint)` when its value came from an
   * environment variable, else its path. Absent when the component was not built from a config.
   */
  readonly settingToChange?: (setting: string) => string;
}

/** A setting that names a network address, and its value (for the start-up address checks). */
export interface AddressSetting {
  /** The setting's path inside the component's config, e.g. `protocols.grpc.endpoint`. */
  readonly setting: string;
  /** `host:port` for a server; for an exporter, `host:port` or a URL. */
  readonly address: string;
}

interface FactoryBase<C> {
  readonly kind: Kind;
  /** The type name used in config (`otlp`, `batch`, `memory_limiter`). */
  readonly type: string;
  /**
   * Validates one component's config section and fills in defaults. The result is frozen by the
   * loader. Unknown keys are errors, as in the Collector.
   */
  readonly configSchema: z.ZodType<C>;
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  readonly signals: readonly Signal[];
  /** The addresses it listens on (checked for clashes, and against exporters sending to them). */
  listeners?(config: C): readonly AddressSetting[];
  /** `next` holds one consumer per signal that has a pipeline using this receiver. */
  create(settings: CreateSettings, config: C, next: Partial<Record<Signal, Consumer>>): Receiver;
}

export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  readonly signals: readonly Signal[];
  /** One instance per pipeline, as in the Collector. */
  create(settings: CreateSettings, config: C, signal: Signal, next: Consumer): Processor;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  readonly signals: readonly Signal[];
  /**
   * Where it sends a signal's data (network exporters): checked at start-up so that no exporter
   * sends to this process's own receivers, and logged once.
   */
  targets?(config: C, signal: Signal): readonly AddressSetting[];
  /** One instance per signal that uses the exporter; pipelines of one signal share it. */
  create(settings: CreateSettings, config: C, signal: Signal): Exporter;
}

/**
 * A connector (`connectors:` in the config): listed under `exporters` of pipelines of its `from`
 * signals and under `receivers` of pipelines of its `to` signals. One instance per id.
 */
export interface ConnectorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'connector';
  /** The signals it takes in (the pipelines that list it under `exporters`). */
  readonly from: readonly Signal[];
  /** The signals it sends (the pipelines that list it under `receivers`). */
  readonly to: readonly Signal[];
  /**
   * How to wire it, in a line of config (told to a user who configured it elsewhere, such as an
   * old config listing it under `exporters`).
   */
  readonly usage: string;
  /** `next` holds, per `to` signal, the pipelines that list it under `receivers`. */
  create(settings: CreateSettings, config: C, next: Partial<Record<Signal, Consumer>>): Connector;
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'extension';
  /** The addresses it listens on, as for receivers. */
  listeners?(config: C): readonly AddressSetting[];
  create(settings: CreateSettings, config: C): Extension;
}

export type AnyFactory =
  | ReceiverFactory<any>
  | ProcessorFactory<any>
  | ExporterFactory<any>
  | ConnectorFactory<any>
  | ExtensionFactory<any>;

/** The factories available to a build, by kind and type. */
export interface Factories {
  readonly receivers: ReadonlyMap<string, ReceiverFactory<any>>;
  readonly processors: ReadonlyMap<string, ProcessorFactory<any>>;
  readonly exporters: ReadonlyMap<string, ExporterFactory<any>>;
  readonly connectors: ReadonlyMap<string, ConnectorFactory<any>>;
  readonly extensions: ReadonlyMap<string, ExtensionFactory<any>>;
}

export function makeFactories(list: readonly AnyFactory[]): Factories {
  const receivers = new Map<string, ReceiverFactory<any>>();
  const processors = new Map<string, ProcessorFactory<any>>();
  const exporters = new Map<string, ExporterFactory<any>>();
  const connectors = new Map<string, ConnectorFactory<any>>();
  const extensions = new Map<string, ExtensionFactory<any>>();
  const maps = { receivers, processors, exporters, connectors, extensions };
  for (const f of list) {
    const map = factoriesOfKind(maps, f.kind) as Map<string, AnyFactory>;
    if (map.has(f.type)) throw new Error(`duplicate ${f.kind} factory for type "${f.type}"`);
    map.set(f.type, f);
  }
  return maps;
}

/** The factories of one kind, by type. */
export function factoriesOfKind(factories: Factories, kind: Kind): ReadonlyMap<string, AnyFactory> {
  switch (kind) {
    case 'receiver':
      return factories.receivers;
    case 'processor':
      return factories.processors;
    case 'exporter':
      return factories.exporters;
    case 'connector':
      return factories.connectors;
    case 'extension':
      return factories.extensions;
  }
}
