import { Cron } from 'croner';
import type { Clock, Timer } from '../../../component/clock.js';

// setTimeout cannot wait longer than 2^31 - 1 ms (~24.8 days); longer waits are taken in steps.
const MAX_DELAY = 2_147_483_647;

/**
 * Runs `fn` at each time the cron expression `expr` names in `timeZone`, on the injected clock (so
 * tests can play weeks of nights in milliseconds). croner only computes the next time; the clock
 * owns the timer.
 */
export function scheduleCron(clock: Clock, expr: string, timeZone: string, fn: () => void): Timer {
  const cron = new Cron(expr, { timezone: timeZone, paused: true });
  let timer: Timer | undefined;
  let cancelled = false;
  const arm = () => {
    if (cancelled) return;
    const now = clock.now();
    const next = cron.nextRun(new Date(now));
    if (!next) return;
    const delay = next.getTime() - now;
    if (delay > MAX_DELAY) {
      timer = clock.setTimeout(arm, MAX_DELAY).unref();
      return;
    }
    timer = clock
      .setTimeout(
        () => {
          if (cancelled) return;
          arm();
          fn();
        },
        Math.max(0, delay),
      )
      .unref();
  };
  arm();
  const handle: Timer = {
    cancel() {
      cancelled = true;
      timer?.cancel();
      cron.stop();
    },
    unref: () => handle,
  };
  return handle;
}

/** The next time `expr` fires after `from` in `timeZone` (for status output). */
export function nextRun(expr: string, timeZone: string, from: number): number | undefined {
  const cron = new Cron(expr, { timezone: timeZone, paused: true });
  const next = cron.nextRun(new Date(from));
  cron.stop();
  return next?.getTime();
}
