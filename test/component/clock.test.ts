import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, systemClock, timerMs } from '../../src/component/clock.js';

describe('systemClock', () => {
  it('clamps delays past what a Node timer waits to 24.8 days', () => {
    expect(timerMs(3_600_000_000)).toBe(MAX_TIMER_MS);
    expect(timerMs(MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    expect(timerMs(150)).toBe(150);
  });

  // Node fires a timer of more than 2^31-1 ms after 1 ms: flush_interval, check_interval or
  // stream_heartbeat of 1000h ran every millisecond (the admin API wrote a keep-alive a millisecond).
  it.each(['setTimeout', 'setInterval'] as const)(
    '%s of 1000h does not fire before one of 30 ms',
    async (kind) => {
      let fired = 0;
      const far = systemClock[kind](() => fired++, 1000 * 3_600_000);
      try {
        await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 30));
        expect(fired).toBe(0);
      } finally {
        far.cancel();
      }
    },
  );
});
