import type { Consumer, Signal } from './consumer.js';

export type Kind = 'receiver' | 'processor' | 'exporter' | 'extension';

/**
 * Lifecycle shared by every component. `start` runs once; `shutdown` runs once, is safe before
 * `start` (and after a failed `start`), and drains what the component holds. The service starts
 * downstream first (exporters, processors, receivers) and shuts down in reverse.
 */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
}

export type Receiver = Component;
export type Processor = Component & Consumer;
export type Extension = Component;

export interface Exporter extends Component, Consumer {
  /**
   * True for an exporter that sends data of its own into the other exporters of its pipelines
   * (`llm_summary` sends summary spans to the trace exporters next to it). The service starts
   * such exporters after the others and shuts them down before them, so what they flush on
   * shutdown still has somewhere to go.
   */
  readonly feedsPipelineExporters?: boolean;
}

/** What a running component may ask of the service that built it. */
export interface Host {
  /** Every built component, by kind and id (and signal for processors and exporters). */
  components(): readonly BuiltComponent[];
  /** The extension with this id, if configured and enabled in `service.extensions`. */
  getExtension(id: string): Extension | undefined;
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
   * exporter (of its signal) or a receiver; empty for extensions.
   */
  readonly pipelines: readonly string[];
  readonly instance: Component;
}

/** Runs `shutdown` once, however many times it is called; safe before `start`. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
