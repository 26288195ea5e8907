import type { Clock, Timer } from './clock.js';

interface Pending {
  at: number;
  every: number | undefined;
  fn: () => void;
}

/**
 * A clock moved by hand: `advance(ms)` and `set(time)` move time forward and fire the timers that
 * fall due, in time order. Tests play weeks of traffic on it in milliseconds; `hourglass replay`
 * drives it with the spans' own timestamps, so flushes, the window roll and scheduled
 * recalculations happen in replay time.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, Pending>();

  constructor(start: number | Date = Date.UTC(2026, 0, 5, 0, 0, 0)) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: [number, Pending] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      const [id, t] = next;
      this.time = t.at;
      if (t.every === undefined) this.timers.delete(id);
      else t.at += t.every;
      t.fn();
    }
    this.time = target;
  }

  /** Sets the time (forward only), firing due timers. */
  set(time: number | Date): void {
    const t = typeof time === 'number' ? time : time.getTime();
    if (t < this.time) throw new Error('ManualClock only moves forward');
    this.advance(t - this.time);
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  private add(fn: () => void, ms: number, every: number | undefined): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), every, fn });
    const timer: Timer = { cancel: () => this.timers.delete(id), unref: () => timer };
    return timer;
  }
}
