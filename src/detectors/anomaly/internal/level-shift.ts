import { cumulativeStdNormalProbability, probit } from 'simple-statistics';
import { THR_P50, THR_P95 } from './thr-layout.js';

/** Whether a span in a slowdown of its operation carries it (level.ts). */

const Z95 = probit(0.95);
const Z99 = probit(0.99);
const SHIFT_STEP = 0.02;
// u's mean as a function of a log-normal operation's shift (in its own log-spreads): 0.56 .. 3.
const MEAN_U = Float64Array.from({ length: 401 }, (_, i) => {
  const shift = i * SHIFT_STEP;
  return (
    cumulativeStdNormalProbability(shift) +
    cumulativeStdNormalProbability(shift - Z95) +
    cumulativeStdNormalProbability(shift - Z99)
  );
});

/**
 * Whether a span carries its operation's slowdown (level `v`, in alarm): it is slower than the
 * slot's median, and either it or the slowdown the level implies is at least `minDeltaMs` slower.
 * The slowdown is read from the level as the shift of a log-normal distribution with the slot's
 * p50..p95 spread that would make u average `v`: an operation 5x slower is slower by 4x its
 * median, although some of its spans are no slower than the slow ones of a normal hour.
 */
export function carriesShift(
  thr: Float32Array,
  at: number,
  d: number,
  v: number,
  minDeltaMs: number,
): boolean {
  const p50 = thr[at + THR_P50]!;
  if (!(d > p50)) return false;
  if (d - p50 >= minDeltaMs) return true;
  return p50 * (levelRatio(thr, at, v) - 1) >= minDeltaMs;
}

/**
 * The slowdown level `v` implies for the operation (`anomaly.operation.ratio`): its median's
 * ratio to the slot's, read as above (2 for an operation whose spans are all about 2x slower).
 */
export function levelRatio(thr: Float32Array, at: number, v: number): number {
  let i = 0;
  while (i < MEAN_U.length - 1 && MEAN_U[i + 1]! <= v) i++;
  const spread = Math.log(thr[at + THR_P95]! / thr[at + THR_P50]!) / Z95;
  return Math.exp(i * SHIFT_STEP * spread);
}
