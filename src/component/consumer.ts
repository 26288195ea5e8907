/**
 * What flows between components. All three signals travel as the encoded OTLP export request
 * (`ExportTraceServiceRequest`, `ExportMetricsServiceRequest`, `ExportLogsServiceRequest`): the
 * receiver validates the bytes once, processors that change nothing pass the same bytes on, and
 * exporters send them without re-encoding. Two encoded requests concatenated are a valid encoding
 * of the merged request (protobuf merges repeated fields), which makes batching a byte copy.
 */

import type { RefusedError } from './errors.js';
import type { Signal } from '../otlp/signal.js';
import type { SpanLayout } from '../otlp/span-layout.js';

export { ITEM_NAME, SIGNALS, type Signal } from '../otlp/signal.js';

/** The unit of data a consumer receives. Immutable: a processor that changes data makes a new one. */
export interface OtlpBatch {
  readonly signal: Signal;
  /** The encoded export request for `signal`. */
  readonly bytes: Uint8Array;
  /** Spans, metric data points or log records in `bytes` (what the self-metrics count). */
  readonly items: number;
  /**
   * Traces from a receiver: where the spans' fields lie in `bytes`, recorded while validating, so
   * that detection does not scan the request again. Only valid for these exact `bytes`: a
   * component that builds a batch with other bytes leaves it out.
   */
  readonly layout?: SpanLayout;
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
  /**
   * Optional: a receiver holds `delta` more bytes of request bodies it is still reading or
   * decoding (negative: it let go of them, whatever became of the request). Returns the error to
   * refuse the growing request with when memory, counting them, is above the limit (the
   * memory_limiter), so that slow or many bodies are refused while they arrive.
   */
  holdBody?(delta: number): RefusedError | undefined;
  /**
   * Optional: whether this consumer, or one it passes batches to unchanged, reads
   * `OtlpBatch.layout` (the anomaly processor does). Receivers record the layout only then, so
   * that a pipeline without detection does not pay for it.
   */
  readsSpanLayout?(): boolean;
}

export function batchOf(signal: Signal, bytes: Uint8Array, items: number): OtlpBatch {
  return { signal, bytes, items };
}

/**
 * A batch made of several encoded requests (what the batch processor and the sending queue
 * gather). The parts are kept as they came and concatenated only when something reads `bytes`:
 * the exporters' transports write the parts one after the other, so a batch that only goes to
 * Jaeger is never copied.
 */
export class JoinedBatch implements OtlpBatch {
  private joined: Uint8Array | undefined;

  constructor(
    readonly signal: Signal,
    readonly parts: readonly Uint8Array[],
    readonly items: number,
    readonly size: number = parts.reduce((n, p) => n + p.length, 0),
  ) {}

  get bytes(): Uint8Array {
    this.joined ??= this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    return this.joined;
  }
}

/** The encoded parts of a batch, without concatenating them. */
export function partsOf(batch: OtlpBatch): readonly Uint8Array[] {
  return batch instanceof JoinedBatch ? batch.parts : [batch.bytes];
}

/** The encoded size of a batch, without concatenating it. */
export function sizeOf(batch: OtlpBatch): number {
  return batch instanceof JoinedBatch ? batch.size : batch.bytes.length;
}

/** One batch of all the given ones (same signal), without copying their bytes. */
export function joinBatches(batches: readonly OtlpBatch[]): OtlpBatch {
  if (batches.length === 1) return batches[0]!;
  const parts: Uint8Array[] = [];
  let items = 0;
  let size = 0;
  for (const b of batches) {
    for (const p of partsOf(b)) parts.push(p);
    items += b.items;
    size += sizeOf(b);
  }
  return new JoinedBatch(batches[0]!.signal, parts, items, size);
}
