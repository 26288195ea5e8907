import type { QueueEntry } from '../queue.js';
import { WaitingList } from './waiting-list.js';

/**
 * What the in-memory and persistent queues share: the waiting list, the count of batches held
 * (waiting, being written, or taken and not yet done) that bounds them, and closing.
 */
export abstract class QueueBase<T> {
  protected readonly waiting: WaitingList<T>;
  protected count = 0;
  protected closed = false;

  constructor(
    readonly capacity: number,
    sizeOf: (entry: T) => number,
    private readonly itemsOf: (entry: T) => number,
  ) {
    this.waiting = new WaitingList(sizeOf);
  }

  held(): number {
    return this.count;
  }

  release(entries: readonly QueueEntry[]): void {
    this.count -= entries.length;
  }

  close(): void {
    this.closed = true;
    this.waiting.close();
  }

  removeWaiting(): { batches: number; items: number } {
    const rest = this.waiting.removeAll();
    this.count -= rest.length;
    let items = 0;
    for (const e of rest) items += this.itemsOf(e);
    return { batches: rest.length, items };
  }

  /** Room for one more batch? */
  protected hasRoom(): boolean {
    return !this.closed && this.count < this.capacity;
  }
}
