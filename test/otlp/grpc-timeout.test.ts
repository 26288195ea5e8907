import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, parseGrpcTimeout } from '../../src/otlp/grpc.js';

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
});
