import type { Consumer, OtlpBatch } from '../component/consumer.js';
import { PermanentError, RefusedError, UnavailableError } from '../component/errors.js';

/**
 * Sends each batch to several consumers at once (the exporters of a pipeline, or the pipelines
 * fed by one receiver). Succeeds when all succeed. On failure the most retryable error wins, so the
 * client retries rather than losing data: refused > unavailable > permanent. (Consumers that did
 * accept will see the retried data again; OTLP delivery is at-least-once, as in the Collector.)
 */
export class FanOut implements Consumer {
  constructor(private readonly consumers: readonly Consumer[]) {}

  refusal(): RefusedError | undefined {
    for (const c of this.consumers) {
      const r = c.refusal?.();
      if (r) return r;
    }
    return undefined;
  }

  /** Every consumer hears of every byte (each balances its own count); the first refusal wins. */
  holdBody(delta: number): RefusedError | undefined {
    let refused: RefusedError | undefined;
    for (const c of this.consumers) {
      const r = c.holdBody?.(delta);
      refused ??= r;
    }
    return refused;
  }

  readsSpanLayout(): boolean {
    return this.consumers.some((c) => c.readsSpanLayout?.() === true);
  }

  consume(batch: OtlpBatch): Promise<void> {
    if (this.consumers.length === 1) return this.consumers[0]!.consume(batch);
    return Promise.allSettled(this.consumers.map((c) => c.consume(batch))).then((results) => {
      let worst: unknown;
      for (const r of results) {
        if (r.status === 'rejected' && rank(r.reason) > rank(worst)) worst = r.reason;
      }
      if (worst !== undefined) throw worst;
    });
  }
}

function rank(err: unknown): number {
  if (err === undefined) return -1;
  if (err instanceof RefusedError) return 3;
  if (err instanceof UnavailableError) return 2;
  if (err instanceof PermanentError) return 0;
  return 1;
}

/** A fan-out over one consumer is the consumer itself. */
export function fanOut(consumers: readonly Consumer[]): Consumer {
  return consumers.length === 1 ? consumers[0]! : new FanOut(consumers);
}
