import type { Consumer } from '../../component/consumer.js';
import type { RefusedError } from '../../component/errors.js';

/**
 * The bytes of one request body a receiver holds (read so far, then decompressed), reported to
 * the pipeline (`Consumer.holdBody`: the memory_limiter counts them) as they arrive, and let go
 * of once the request is answered, whatever became of it.
 */
export class BodyHold {
  private bytes = 0;

  constructor(private readonly consumer: Consumer) {}

  /** Holds `n` more bytes; the refusal when memory with them is over the limit. */
  add(n: number): RefusedError | undefined {
    if (this.consumer.holdBody === undefined || n <= 0) return undefined;
    this.bytes += n;
    return this.consumer.holdBody(n);
  }

  release(): void {
    if (this.bytes === 0) return;
    this.consumer.holdBody?.(-this.bytes);
    this.bytes = 0;
  }
}
