import type { Clock, Timer } from '../../../../component/clock.js';
import type { HeldTrace } from './trace-holder.js';

export interface BatchQueueOptions {
  readonly clock: Clock;
  /** Traces waiting at most. */
  readonly size: number;
  /** A batch goes when this many wait ... */
  readonly maxBatch: number;
  /** ... or this long after the first of them came. */
  readonly timeoutMs: number;
  /** Summarizes and publishes one batch; must not reject. */
  readonly run: (batch: readonly HeldTrace[]) => Promise<void>;
  /** A trace was dropped because the queue was full. */
  readonly dropped: () => void;
}

/**
 * The anomalous traces waiting to be summarized, and the batches they go in: a batch goes every
 * `timeoutMs` after its first trace came, or as soon as `maxBatch` wait. One batch runs at a
 * time; traces coming meanwhile wait (bounded: when full, the least severe waiting trace, the
 * oldest of them, makes way for a more severe one, else the new one is dropped).
 */
export class BatchQueue {
  private queue: HeldTrace[] = [];
  private timer: Timer | undefined;
  private due = false;
  private inFlight: Promise<void> | undefined;
  /** No new batch starts by itself (shutdown drains what is left with `drain`). */
  private stopped = false;

  constructor(private readonly o: BatchQueueOptions) {}

  get length(): number {
    return this.queue.length;
  }

  add(trace: HeldTrace): void {
    if (this.queue.length >= this.o.size) {
      let worst = 0;
      for (let i = 1; i < this.queue.length; i++) {
        if (this.queue[i]!.severity > this.queue[worst]!.severity) worst = i;
      }
      this.o.dropped();
      if (trace.severity >= this.queue[worst]!.severity) return;
      this.queue.splice(worst, 1);
    }
    this.queue.push(trace);
    if (this.stopped) return;
    if (this.queue.length >= this.o.maxBatch) this.dispatch();
    else this.arm();
  }

  /** Resolves once no batch is running. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Stops scheduling; waits for the running batch, then runs what is left, batch by batch. */
  async drain(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.idle();
    while (this.queue.length > 0) await this.o.run(this.queue.splice(0, this.o.maxBatch));
  }

  private arm(): void {
    this.timer ??= this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.dispatch();
    }, this.o.timeoutMs);
  }

  private dispatch(): void {
    if (this.inFlight) {
      this.due = true;
      return;
    }
    this.timer?.cancel();
    this.timer = undefined;
    this.due = false;
    const batch = this.queue.splice(0, this.o.maxBatch);
    if (batch.length === 0) return;
    this.inFlight = this.o.run(batch).finally(() => {
      this.inFlight = undefined;
      if (this.stopped || this.queue.length === 0) return;
      if (this.due || this.queue.length >= this.o.maxBatch) this.dispatch();
      else this.arm();
    });
  }
}
