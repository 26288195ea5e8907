import type { Logger } from 'pino';
import type { z } from 'zod';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import type { Clock } from './clock.js';
import type { Exporter, Extension, Kind, Processor, Receiver } from './component.js';
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

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'extension';
  /** The addresses it listens on, as for receivers. */
  listeners?(config: C): readonly AddressSetting[];
  create(settings: CreateSettings, config: C): Extension;
}

export type AnyFactory =
  ReceiverFactory<any> | ProcessorFactory<any> | ExporterFactory<any> | ExtensionFactory<any>;

/** The factories available to a build, by kind and type. */
export interface Factories {
  readonly receivers: ReadonlyMap<string, ReceiverFactory<any>>;
  readonly processors: ReadonlyMap<string, ProcessorFactory<any>>;
  readonly exporters: ReadonlyMap<string, ExporterFactory<any>>;
  readonly extensions: ReadonlyMap<string, ExtensionFactory<any>>;
}

export function makeFactories(list: readonly AnyFactory[]): Factories {
  const receivers = new Map<string, ReceiverFactory<any>>();
  const processors = new Map<string, ProcessorFactory<any>>();
  const exporters = new Map<string, ExporterFactory<any>>();
  const extensions = new Map<string, ExtensionFactory<any>>();
  for (const f of list) {
    const map: Map<string, AnyFactory> =
      f.kind === 'receiver'
        ? receivers
        : f.kind === 'processor'
          ? processors
          : f.kind === 'exporter'
            ? exporters
            : extensions;
    if (map.has(f.type)) throw new Error(`duplicate ${f.kind} factory for type "${f.type}"`);
    map.set(f.type, f);
  }
  return { receivers, processors, exporters, extensions };
}
