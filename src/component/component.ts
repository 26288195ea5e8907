import type { Capability, Provided, Published } from './capability.js';
import type { Consumer, Signal } from './consumer.js';
import type { Kind } from './kind.js';

export type { Kind } from './kind.js';

/**
 * Lifecycle shared by every component. `start` runs once; `shutdown` runs once, is safe before
 * `start` (and after a failed `start`), and drains what the component holds. The service starts
 * the graph downstream first (a component after everything it sends to) and shuts it down in
 * reverse.
 */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
  /**
   * What this component offers the others through the host (`capability.ts`). Asked once, after
   * the graph is built and before anything starts.
   */
  capabilities?(): readonly Provided[];
}

export type Receiver = Component;
export type Processor = Component & Consumer;
export type Exporter = Component & Consumer;
export type Extension = Component;

/**
 * A connector, as in the Collector: an exporter at the end of the pipelines that list it under
 * `exporters`, and a receiver at the start of the pipelines that list it under `receivers`. It
 * consumes its input signals (`OtlpBatch.signal` tells which) and sends what it makes into the
 * consumers it was created with.
 */
export type Connector = Component & Consumer;

/** What a running component may ask of the service that built it. */
export interface Host {
  /** Every built component, by kind and id (and signal for processors and exporters). */
  components(): readonly BuiltComponent[];
  /** The extension with this id, if configured and enabled in `service.extensions`. */
  getExtension(id: string): Extension | undefined;
  /** Every component offering this capability, in build order (see `capability.ts`). */
  lookup<T>(capability: Capability<T>): readonly Published<T>[];
}

export interface BuiltComponent {
  readonly kind: Kind;
  readonly id: string;
  /** Signal for processors and exporters (one instance per signal); undefined for the rest. */
  readonly signal: Signal | undefined;
  /** The pipeline a processor instance belongs to (processors are per pipeline). */
  readonly pipeline: string | undefined;
  /**
   * Every pipeline the instance is in: a processor's one pipeline, each pipeline listing an
   * exporter (of its signal), a receiver or a connector (as exporter or receiver); empty for
   * extensions.
   */
  readonly pipelines: readonly string[];
  readonly instance: Component;
}

/** A host with nothing in it: for components run on their own (tools, benchmarks, tests). */
export const NO_HOST: Host = Object.freeze({
  components: () => [],
  getExtension: () => undefined,
  lookup: () => [],
});
