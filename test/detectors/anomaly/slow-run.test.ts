import { probit } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { splitPercentiles } from '../../../src/detectors/anomaly/internal/level.js';
import { cappedSeverity } from '../../../src/detectors/anomaly/internal/level-shift.js';
import {
  RUN_GAP_MS,
  runLimits,
  SlowRun,
  tailRate,
} from '../../../src/detectors/anomaly/internal/slow-run.js';
import {
  THR_P50,
  THR_P95,
  THR_P99,
  THR_SEV5,
} from '../../../src/detectors/anomaly/internal/thr-layout.js';
import { Random } from '../helpers/random.js';

const { point: POINT, level: LEVEL } = splitPercentiles([0.99, 0.995, 0.999, 0.9999, 0.99999]);
const POINT_RATES = Float64Array.from(POINT, (q) => 1 - q);
const LIMITS = runLimits(LEVEL);
const MEDIAN = 100;

/** A slot's learned thresholds for a log-normal operation (median 100 ms, spread sigma). */
function slot(sigma: number): Float32Array {
  const thr = new Float32Array(8);
  const at = (q: number) => MEDIAN * Math.exp(sigma * probit(q));
  thr[THR_P50] = MEDIAN;
  thr[THR_P95] = at(0.95);
  thr[THR_P99] = at(0.99);
  POINT.forEach((q, k) => (thr[THR_SEV5 + k] = at(q)));
  return thr;
}

/** Feeds spans of `durations` 30 s apart to a run; returns the severity after each (0: none). */
function play(thr: Float32Array, durations: number[], gapMs = 30_000): number[] {
  const run = new SlowRun();
  return durations.map((d, i) => {
    const start = i * gapMs;
    if (!(d > thr[THR_P95]!)) {
      run.reset();
      return 0;
    }
    run.add(tailRate(thr, 0, d, POINT_RATES, 0), d / MEDIAN, start);
    return run.length > 1 ? run.judge(LIMITS, cappedSeverity).severity : 0;
  });
}

describe('a short run of slow spans', () => {
  it('reads a span’s tail rate from its slot’s thresholds, never below the floor', () => {
    const sigma = 0.5;
    const thr = slot(sigma);
    const d = (q: number) => MEDIAN * Math.exp(sigma * probit(q));
    expect(tailRate(thr, 0, thr[THR_P95]!, POINT_RATES, 0)).toBeNaN();
    // At the thresholds themselves, their rates; between them, within the two.
    expect(tailRate(thr, 0, d(0.99), POINT_RATES, 0)).toBeCloseTo(0.01, 4);
    expect(tailRate(thr, 0, d(0.9995), POINT_RATES, 0)).toBeCloseTo(0.0005, 6);
    const mid = tailRate(thr, 0, d(0.998), POINT_RATES, 0);
    expect(mid).toBeGreaterThan(0.0005);
    expect(mid).toBeLessThan(0.0025);
    // Beyond SEV1, a Pareto tail of index 1: ten times slower, ten times rarer.
    const far = d(0.999995) * 10;
    expect(tailRate(thr, 0, far, POINT_RATES, 0)).toBeCloseTo(5e-7, 8);
    expect(tailRate(thr, 0, far, POINT_RATES, 1e-4)).toBe(1e-4);
  });

  it('fires at most at the level’s rates on independent normal spans', () => {
    const r = new Random(7);
    for (const sigma of [0.2, 0.6]) {
      const thr = slot(sigma);
      const n = 1_000_000;
      const durations = Array.from({ length: n }, () => r.latency(MEDIAN, sigma));
      const sev = play(thr, durations);
      const sev3 = sev.filter((s) => s !== 0 && s <= 3).length / n;
      const sev2 = sev.filter((s) => s !== 0 && s <= 2).length / n;
      expect(sev3).toBeLessThanOrEqual(1 - LEVEL[2]!);
      expect(sev2).toBeLessThanOrEqual(1 - LEVEL[3]!);
    }
  });

  it('tags a 5x slowdown of a call made twice a minute SEV2 from its second or third span', () => {
    const r = new Random(11);
    const sigma = 0.4;
    const thr = slot(sigma);
    let major = 0;
    let moderate = 0;
    const trials = 1000;
    for (let t = 0; t < trials; t++) {
      const sev = play(
        thr,
        Array.from({ length: 3 }, () => 5 * r.latency(MEDIAN, sigma)),
      );
      if (sev.some((s) => s === 2)) major++;
      if (sev.some((s) => s !== 0 && s <= 3)) moderate++;
    }
    // One span in ten of a 5x slowdown at this spread is under 3x its median (SEV3 at that run), one
    // in a hundred under its p95 (the run starts again).
    expect(major / trials).toBeGreaterThan(0.85);
    expect(moderate / trials).toBeGreaterThan(0.97);
  });

  it('tags a slowdown no more severely than its least slow span allows', () => {
    const thr = slot(0.2);
    // Both spans are beyond SEV1, but the run's least slow one is 2.9x its median: SEV3, not SEV2.
    const slow = 2.9 * MEDIAN;
    expect(slow).toBeGreaterThan(thr[THR_SEV5 + 4]!);
    expect(play(thr, [40 * MEDIAN, slow])).toEqual([0, 3]);
    expect(play(thr, [40 * MEDIAN, 3 * MEDIAN])).toEqual([0, 2]);
  });

  it('counts spans close in time as one, and starts again after a normal span', () => {
    const thr = slot(0.4);
    const slow = 40 * MEDIAN;
    expect(play(thr, [slow, slow, slow], RUN_GAP_MS / 5)).toEqual([0, 0, 0]);
    // A steady stream of slow spans just under the gap apart is not one observation for ever.
    expect(play(thr, [slow, slow, slow], RUN_GAP_MS * 0.8)).toEqual([0, 0, 2]);
    expect(play(thr, [slow, MEDIAN, slow])).toEqual([0, 0, 0]);
  });
});
