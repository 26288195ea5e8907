/**
 * A FIFO of queued entries with consumers waiting on it. `take` hands out the oldest entry and,
 * behind it, as many more as fit in `maxBytes` together (the consumer merges them into one
 * export). Once closed, `take` returns what is left, then `undefined`.
 */
export class WaitingList<T> {
  /** Consumed slots before `head` are cleared, so exported batches are not kept alive. */
  private items: Array<T | undefined> = [];
  private head = 0;
  private readonly takers: Array<(entries: T[] | undefined) => void> = [];
  private closed = false;

  constructor(private readonly sizeOf: (entry: T) => number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(entry: T): void {
    const taker = this.takers.shift();
    if (taker) taker([entry]);
    else this.items.push(entry);
  }

  take(maxBytes: number): Promise<T[] | undefined> {
    if (this.length > 0) return Promise.resolve(this.takeNow(maxBytes));
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** Wakes waiting consumers with `undefined`; later takes get what is left, then `undefined`. */
  close(): void {
    this.closed = true;
    for (const taker of this.takers.splice(0)) taker(undefined);
  }

  /** Removes and returns every waiting entry. */
  removeAll(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }

  private takeNow(maxBytes: number): T[] {
    const first = this.items[this.head]!;
    this.items[this.head++] = undefined;
    const out = [first];
    let size = this.sizeOf(first);
    while (this.head < this.items.length) {
      const next = this.items[this.head]!;
      const s = this.sizeOf(next);
      if (size + s > maxBytes) break;
      out.push(next);
      size += s;
      this.items[this.head++] = undefined;
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      // Compact once the consumed prefix dominates, so the array does not grow without bound.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
