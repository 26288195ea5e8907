import { describe, expect, it } from 'vitest';
import {
  add,
  addAt,
  emptyMoments,
  merge,
  mergeAt,
  stddevOf,
} from '../../../src/detectors/anomaly/internal/moments.js';
import { RELATIVE_ACCURACY, Sketch } from '../../../src/detectors/anomaly/internal/sketch.js';
import { Random } from '../helpers/random.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('moments (Welford / Chan)', () => {
  it('gives the textbook mean and sample standard deviation', () => {
    const m = emptyMoments();
    for (const x of [2, 4, 4, 4, 5, 5, 7, 9]) add(m, x);
    expect(m.count).toBe(8);
    expect(m.mean).toBe(5);
    expect(stddevOf(m.count, m.m2)).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(stddevOf(1, 0)).toBe(0);
  });

  it('merging 30 daily parts equals one pass over all the data', () => {
    const r = new Random(7);
    const days = Array.from({ length: 30 }, (_, d) =>
      Array.from({ length: 50 + d * 13 }, () => r.latency(100 + d, 0.4)),
    );
    const onePass = emptyMoments();
    for (const x of days.flat()) add(onePass, x);
    const merged = emptyMoments();
    const slots = new Float64Array(3);
    for (const day of days) {
      const part = emptyMoments();
      for (const x of day) add(part, x);
      merge(merged, part);
      mergeAt(slots, 0, part.count, part.mean, part.m2);
    }
    expect(merged.count).toBe(onePass.count);
    expect(merged.mean).toBeCloseTo(onePass.mean, 9);
    expect(merged.m2 / onePass.m2).toBeCloseTo(1, 9);
    expect(slots[0]).toBe(onePass.count);
    expect(slots[1]).toBeCloseTo(onePass.mean, 9);
    expect(slots[2]! / onePass.m2).toBeCloseTo(1, 9);
    // addAt is Welford on the packed layout: the same numbers as `add`.
    const packed = new Float64Array(6);
    for (const x of days.flat()) addAt(packed, 3, x);
    expect([packed[3], packed[4], packed[5]]).toEqual([onePass.count, onePass.mean, onePass.m2]);
  });

  it('merging into or from empty moments is the identity', () => {
    const a = add(add(emptyMoments(), 1), 3);
    expect(merge(emptyMoments(), a)).toEqual(a);
    expect(merge({ ...a }, emptyMoments())).toEqual(a);
  });
});

describe('quantile sketch', () => {
  it('answers percentiles within its relative accuracy', () => {
    const r = new Random(11);
    const values = Array.from({ length: 50_000 }, () => r.latency(80, 0.6));
    const s = new Sketch();
    for (const v of values) s.add(v);
    const sorted = values.slice().sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(s.quantile(q) - exact) / exact).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-9);
    }
    expect(s.count).toBe(50_000);
  });

  it('the merge of daily sketches equals one sketch over all the data, bin for bin', () => {
    const r = new Random(3);
    const whole = new Sketch();
    const merged = new Sketch();
    for (let day = 0; day < 30; day++) {
      const part = new Sketch();
      // Days with different ranges, so the merge has to grow bins on both sides.
      const median = day % 2 === 0 ? 5 : 900;
      for (let i = 0; i < 200; i++) {
        const v = r.latency(median, 0.8);
        part.add(v);
        whole.add(v);
      }
      merged.merge(Sketch.decode(part.encode()));
    }
    expect(merged.encode()).toEqual(whole.encode());
    for (const q of [0.1, 0.5, 0.99]) expect(merged.quantile(q)).toBe(whole.quantile(q));
  });

  it('round-trips through its compact encoding, including tiny and huge values', () => {
    const s = new Sketch();
    for (const v of [0, 1e-9, 0.003, 1, 1, 250, 3.6e6, 1e15]) s.add(v);
    const bytes = s.encode();
    const back = Sketch.decode(bytes);
    expect(back.count).toBe(8);
    expect(back.zeroCount).toBe(2);
    expect(back.encode()).toEqual(bytes);
    expect(back.quantile(0)).toBe(0);
    expect(back.quantile(0.5)).toBeCloseTo(1, 1);
    // A 200-value day of one operation fits in a few hundred bytes.
    const day = new Sketch();
    const r = new Random(5);
    for (let i = 0; i < 200; i++) day.add(r.latency(120, 0.3));
    expect(day.encode().length).toBeLessThan(300);
  });

  it('rejects bytes that are not a sketch', () => {
    expect(() => Sketch.decode(Uint8Array.from([9, 0, 0, 0]))).toThrow(/format version 9/);
    expect(() => Sketch.decode(Uint8Array.from([1, 0, 0, 1]))).toThrow(/truncated/);
    const ok = new Sketch();
    ok.add(3);
    expect(() => Sketch.decode(Uint8Array.from([...ok.encode(), 7]))).toThrow(/trailing/);
    expect(new Sketch().quantile(0.5)).toBeNaN();
  });
});
