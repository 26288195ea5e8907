import { describe, expect, it } from 'vitest';
import { Sequence } from '../../src/component/sequence.js';

describe('Sequence (the numbers event streams resume after)', () => {
  it('numbers by the clock, one more within a millisecond, and never goes back', () => {
    let now = 1_000.7;
    const seq = new Sequence(() => now);
    expect(seq.start).toBe(1_000_000);
    expect(seq.last).toBe(seq.start);
    expect([seq.next(), seq.next()]).toEqual([1_000_001, 1_000_002]);
    now += 5;
    expect(seq.next()).toBe(1_005_000);
    now = 500; // the clock set back
    expect(seq.next()).toBe(1_005_001);
    expect(seq.last).toBe(1_005_001);
    // A restart a millisecond later starts after every number given before.
    now = 1_006;
    expect(new Sequence(() => now).start).toBeGreaterThan(seq.last);
  });
});
