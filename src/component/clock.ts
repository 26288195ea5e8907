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

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    return wrap(setTimeout(fn, ms));
  },
  setInterval(fn, ms) {
    return wrap(setInterval(fn, ms));
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
