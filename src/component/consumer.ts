/**
 * What flows between components. All three signals travel as the encoded OTLP export request
 * (`ExportTraceServiceRequest`, `ExportMetricsServiceRequest`, `ExportLogsServiceRequest`): the
 * receiver validates the bytes once, processors that change nothing pass the same bytes on, and
 * exporters send them without re-encoding. Two encoded requests concatenated are a valid encoding
 * of the merged request (protobuf merges repeated fields), which makes batching a byte copy.
 */

import type { RefusedError } from './errors.js';

export type Signal = 'traces' | 'metrics' | 'logs';

export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** The unit of data a consumer receives. Immutable: a processor that changes data makes a new one. */
export interface OtlpBatch {
  readonly signal: Signal;
  /** The encoded export request for `signal`. */
  readonly bytes: Uint8Array;
  /** Spans, metric data points or log records in `bytes` (what the self-metrics count). */
  readonly items: number;
}

/**
 * The one consumer interface. The promise resolves once the data is accepted downstream (queued or
 * sent) and rejects with a `PermanentError`, `RefusedError` or `UnavailableError` otherwise; the
 * receiver turns that into the OTLP answer.
 */
export interface Consumer {
  consume(batch: OtlpBatch): Promise<void>;
  /**
   * Optional: the error `consume()` would refuse with right now (memory above the limit), so that
   * a receiver can answer 429 without decoding a request it would have to refuse anyway. Under
   * overload this keeps refused requests cheap instead of spending the CPU the pipeline needs.
   */
  refusal?(): RefusedError | undefined;
}

/** The item name used in logs and metric names for each signal, as the Collector names them. */
export const ITEM_NAME: Readonly<Record<Signal, string>> = {
  traces: 'spans',
  metrics: 'metric_points',
  logs: 'log_records',
};

export function batchOf(signal: Signal, bytes: Uint8Array, items: number): OtlpBatch {
  return { signal, bytes, items };
}
