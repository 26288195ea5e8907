import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS } from '../../src/component/clock.js';
import { formatGrpcTimeout, parseGrpcTimeout } from '../../src/otlp/grpc.js';

describe('grpc-timeout', () => {
  it.each([
    ['5000m', 5000],
    ['30S', 30_000],
    ['2H', 7_200_000],
    // 99,999,999 hours: past what a timer waits (24.8 days), which would fire at once.
    ['99999999H', MAX_TIMER_MS],
    ['25000000S', MAX_TIMER_MS],
    ['bogus', undefined],
  ])('%s is %s ms', (value, ms) => {
    expect(parseGrpcTimeout(value)).toBe(ms);
  });

  it.each([
    [150, '150m'],
    [0.4, '1m'],
    [99_999_999, '99999999m'],
    // 1000h: 3600000000m has 10 digits (8 at most); 24.8 days is as far as a timer waits.
    [3_600_000_000, '2147483S'],
    [100_000_000, '100000S'],
  ])('a deadline of %s ms is sent as %s', (ms, value) => {
    expect(formatGrpcTimeout(ms)).toBe(value);
    expect(parseGrpcTimeout(value)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });
});
