import { sizeOf, type OtlpBatch } from '../../component/consumer.js';
import { QueueBase } from './internal/queue-base.js';
import type { BatchQueue, QueueEntry } from './queue.js';

/** The in-memory sending queue: bounded, lost on restart (what is left at shutdown is dropped). */
export class MemoryQueue extends QueueBase<QueueEntry> implements BatchQueue {
  readonly persistent = false;

  constructor(capacity: number) {
    super(
      capacity,
      (e) => sizeOf(e.batch),
      (e) => e.batch.items,
    );
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  offer(batch: OtlpBatch): Promise<boolean> {
    if (!this.hasRoom()) return Promise.resolve(false);
    this.count++;
    this.waiting.push({ batch });
    return Promise.resolve(true);
  }

  take(maxBytes: number): Promise<QueueEntry[] | undefined> {
    return this.waiting.take(maxBytes);
  }

  done(entries: readonly QueueEntry[]): Promise<void> {
    this.count -= entries.length;
    return Promise.resolve();
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
