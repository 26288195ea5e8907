import { describe, expect, it } from 'vitest';
import { retryOnFailure } from '../../../src/exporters/helper/config.js';
import {
  SUCCESS,
  permanent,
  retryable,
  type ExportResult,
} from '../../../src/exporters/helper/export-result.js';
import { jittered, retrying } from '../../../src/exporters/helper/retry.js';
import { ObservedClock, settle } from '../harness.js';

/**
 * The retry loop on its own: attempts answer from a script, time is a fake clock. (The same loop
 * against real servers is in the otlp and otlphttp tests.)
 */
function scripted(results: ExportResult[]) {
  const calls: number[] = [];
  return {
    calls,
    attempt: (n: number) => {
      calls.push(n);
      return Promise.resolve(results.shift() ?? SUCCESS);
    },
  };
}

const fail = (ms?: number) => retryable('UNAVAILABLE', 'down', ms);

/** Runs the loop, advancing the clock through every wait it sets; returns the waits. */
async function run(
  results: ExportResult[],
  raw: Record<string, unknown>,
  drain = new AbortController(),
) {
  const clock = new ObservedClock();
  const script = scripted(results);
  const config = retryOnFailure.parse({ randomization_factor: 0, ...raw });
  const done = retrying(script.attempt, config, clock, drain.signal);
  let settled = false;
  void done.then(() => (settled = true));
  while (!settled) {
    await settle();
    if (clock.pendingTimers() > 0) clock.advance(clock.delays.at(-1)!);
  }
  return { outcome: await done, waits: clock.delays, calls: script.calls };
}

describe('retrying', () => {
  it('backs off exponentially up to max_interval', async () => {
    const { outcome, waits } = await run(Array(7).fill(fail()), {
      initial_interval: '1s',
      multiplier: 2,
      max_interval: '10s',
      max_elapsed_time: 0,
    });
    expect(waits).toEqual([1000, 2000, 4000, 8000, 10000, 10000, 10000]);
    expect(outcome.result.type).toBe('success');
    expect(outcome.attempts).toBe(8);
  });

  it("waits the server's hint instead of the backoff", async () => {
    const { waits } = await run([fail(7000), fail(), fail(250)], {
      initial_interval: '1s',
      multiplier: 2,
    });
    expect(waits).toEqual([7000, 2000, 250]);
  });

  it('cuts the last wait to end at the deadline, tries once more there, then gives up', async () => {
    const { outcome, waits, calls } = await run(Array(10).fill(fail()), {
      initial_interval: '1s',
      multiplier: 2,
      max_elapsed_time: '5s',
    });
    // 1s + 2s = 3s; the next 4s wait is cut to the 2s left.
    expect(waits).toEqual([1000, 2000, 2000]);
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(outcome.result.type).toBe('retryable');
  });

  it('caps a hint longer than the deadline', async () => {
    const { waits } = await run([fail(60_000), fail()], { max_elapsed_time: '10s' });
    expect(waits).toEqual([10_000]);
  });

  it('never retries a permanent failure', async () => {
    const { outcome, calls } = await run([permanent('HTTP 400', 'bad')], {});
    expect(calls).toEqual([1]);
    expect(outcome.result.type).toBe('permanent');
  });

  it('makes one attempt when retry_on_failure is disabled', async () => {
    const { outcome, calls, waits } = await run([fail()], { enabled: false });
    expect(calls).toEqual([1]);
    expect(waits).toEqual([]);
    expect(outcome.result.type).toBe('retryable');
  });

  it('once drain is aborted, cuts the wait and makes one last attempt', async () => {
    const clock = new ObservedClock();
    const script = scripted([fail(), fail(), fail()]);
    const drain = new AbortController();
    const config = retryOnFailure.parse({ randomization_factor: 0 });
    const done = retrying(script.attempt, config, clock, drain.signal);
    await clock.timeoutsSet(1);
    drain.abort();
    const outcome = await done;
    expect(script.calls).toEqual([1, 2]);
    expect(outcome.result.type).toBe('retryable');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('draws jittered waits within interval * (1 +- randomization_factor)', () => {
    expect(jittered(1000, 0.5, () => 0)).toBe(500);
    expect(jittered(1000, 0.5, () => 0.5)).toBe(1000);
    expect(jittered(1000, 0.5, () => 0.999999)).toBeCloseTo(1500, 2);
    expect(jittered(1000, 0, () => 0.9)).toBe(1000);
  });
});
