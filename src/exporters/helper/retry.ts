import type { Clock } from '../../component/clock.js';
import type { RetryConfig } from './config.js';
import type { ExportResult } from './export-result.js';

export interface RetryOutcome {
  /** The last attempt's result: a success, a permanent failure, or the retryable one given up on. */
  readonly result: ExportResult;
  readonly attempts: number;
}

/**
 * Calls `attempt` until it succeeds, fails permanently, or retrying is over: the deadline
 * (`max_elapsed_time` after the first attempt; 0 = none) has passed, or `drain` is aborted. Between
 * attempts it waits the server's hint when there is one, else a jittered exponential backoff; each
 * wait is cut to end at the deadline, so the last attempt happens right there. Aborting `drain`
 * cuts a wait short: the attempt after it is the last one (shutdown gives queued data one try).
 */
export async function retrying(
  attempt: (n: number) => Promise<ExportResult>,
  config: RetryConfig,
  clock: Clock,
  drain: AbortSignal,
  random: () => number = Math.random,
): Promise<RetryOutcome> {
  const deadline =
    config.max_elapsed_time > 0 ? clock.now() + config.max_elapsed_time : Number.POSITIVE_INFINITY;
  let interval = config.initial_interval;
  for (let n = 1; ; n++) {
    const result = await attempt(n);
    if (result.type !== 'retryable' || !config.enabled || drain.aborted) {
      return { result, attempts: n };
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) return { result, attempts: n };
    const backoff = jittered(interval, config.randomization_factor, random);
    interval = Math.min(interval * config.multiplier, config.max_interval);
    await sleep(clock, Math.min(result.retryAfterMs ?? backoff, remaining), drain);
  }
}

/** A wait drawn uniformly from [interval * (1 - factor), interval * (1 + factor)]. */
export function jittered(interval: number, factor: number, random: () => number): number {
  return interval * (1 - factor + 2 * factor * random());
}

/** Resolves after `ms` on `clock`, or as soon as `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      timer.cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
