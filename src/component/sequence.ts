/**
 * Numbers events in the order they happen, for event streams that resume after the last one a
 * client read (`Last-Event-ID`): the clock's milliseconds times 1000, or one more than the last
 * when that is not more (1000 in a millisecond, or a clock set back). The numbers go on increasing
 * across restarts while the clock does, and stay exact in a double (below 2^53 until the year
 * 2255).
 */
export class Sequence {
  /** Before the first number: the place of a stream opened before any event (none has it). */
  readonly start: number;
  private lastNumber: number;

  constructor(private readonly now: () => number) {
    this.start = Math.floor(now()) * 1000;
    this.lastNumber = this.start;
  }

  /** The last number given (`start` while none is). */
  get last(): number {
    return this.lastNumber;
  }

  /** The next number. */
  next(): number {
    this.lastNumber = Math.max(this.lastNumber + 1, Math.floor(this.now()) * 1000);
    return this.lastNumber;
  }
}
