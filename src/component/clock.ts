/**
 * Time is injected: every component gets a clock, so tests can play weeks of traffic in
 * milliseconds. Timers go through the clock as well, so a fake clock can fire them.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
}

export interface Timer {
  cancel(): void;
  /** Do not keep the process alive for this timer. */
  unref(): Timer;
}

/** The longest delay a Node timer takes (about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay as a Node timer can wait it: longer ones are clamped to MAX_TIMER_MS (24.8 days), so
 * that a setting of "1000h" waits long, not 1 ms. Every timer on a configured delay goes through it.
 */
export function timerMs(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    return wrap(setTimeout(fn, timerMs(ms)));
  },
  setInterval(fn, ms) {
    return wrap(setInterval(fn, timerMs(ms)));
  },
};

function wrap(handle: NodeJS.Timeout): Timer {
  const timer: Timer = {
    cancel: () => clearTimeout(handle),
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}
