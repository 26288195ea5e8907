import { probit } from 'simple-statistics';
import { stddevOf, type Moments } from './moments.js';
import type { Sketch } from './sketch.js';

/**
 * Adaptive thresholds: what deviation (in standard deviations) is normal for one key and slot,
 * learned from the slot's own history. See README.md ("How severities are learned") for the
 * reasoning; in short:
 *
 * - Severity n starts at the deviation of the historical percentile `q_n` (99, 99.5, 99.9, 99.99
 *   and 99.999 by default for SEV5..SEV1): on clean traffic SEV3-or-worse then fires on ~0.1% of
 *   spans, SEV2 on 0.01%, SEV1 on 0.001%.
 * - A percentile is read from the sketch when at least TAIL_MIN samples lie beyond it. Rarer ones
 *   (a dow_hour bucket rarely holds 10^6 samples) are extrapolated with a log-normal tail fitted
 *   through two trusted percentiles: latency is close to log-normal, and the fit follows the skew
 *   of the data instead of assuming a bell curve.
 * - Robust floor: never below the Gaussian quantile of the same percentile (no real latency
 *   distribution has a lighter tail), and strictly growing from SEV5 to SEV1.
 * - Until p95 can be trusted (TAIL_MIN / 0.05 = 200 samples) the slot keeps the fixed cold-start
 *   thresholds (`fixed_thresholds`).
 */
export const TAIL_MIN = 10;
const LADDER = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 0.99999];
const MIN_STEP = 0.01;

export type ThresholdSource = 'learned' | 'fixed';

export interface SlotThresholds {
  readonly slot: number;
  readonly samples: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** `[sev5, sev4, sev3, sev2, sev1]` in standard deviations; null while `fixed`. */
  readonly z: readonly number[] | null;
  readonly source: ThresholdSource;
  readonly computedAt: number;
}

/**
 * The standard deviation used for scores: at least 1% of the mean (and 1 us), so that a slot whose
 * spans always take exactly the same time does not call a 0.1% change a 100-sigma event.
 */
export function effectiveStddev(mean: number, stddev: number): number {
  const floor = mean * 0.01;
  return stddev > floor ? stddev : floor > 0.001 ? floor : 0.001;
}

export interface LearnOptions {
  /** Percentiles as fractions, `[sev5 .. sev1]` (0.99 .. 0.99999). */
  readonly percentiles: readonly number[];
  readonly minSamples: number;
  readonly now: number;
}

/** Thresholds of one slot from its merged moments and sketch; undefined below `minSamples`. */
export function learnSlot(
  slot: number,
  m: Moments,
  sketch: Sketch,
  options: LearnOptions,
): SlotThresholds | undefined {
  const n = m.count;
  if (n < options.minSamples) return undefined;
  const stddev = stddevOf(n, m.m2);
  const base = {
    slot,
    samples: n,
    mean: m.mean,
    stddev,
    p50: sketch.quantile(0.5),
    p95: sketch.quantile(0.95),
    p99: sketch.quantile(0.99),
    computedAt: options.now,
  };
  const trusted = LADDER.filter((q) => n * (1 - q) >= TAIL_MIN);
  const qb = trusted[trusted.length - 1]!;
  if (qb < 0.95) return { ...base, z: null, source: 'fixed' };
  // The second point of the tail fit: at least one normal unit below the first, so that the
  // slope is not dominated by the sketch's 1% resolution.
  let qa = trusted[0]!;
  for (const q of trusted) if (probit(q) <= probit(qb) - 1) qa = q;
  const lnA = Math.log(Math.max(sketch.quantile(qa), 1e-9));
  const lnB = Math.log(Math.max(sketch.quantile(qb), 1e-9));
  const slope = Math.max(0, (lnB - lnA) / (probit(qb) - probit(qa)));
  const sd = effectiveStddev(m.mean, stddev);
  const z: number[] = [];
  let previous = 0;
  for (const q of options.percentiles) {
    const value =
      n * (1 - q) >= TAIL_MIN
        ? sketch.quantile(q)
        : Math.exp(lnB + slope * (probit(q) - probit(qb)));
    let t = Math.max((value - m.mean) / sd, probit(q));
    if (z.length > 0 && t < previous + MIN_STEP) t = previous + MIN_STEP;
    z.push(t);
    previous = t;
  }
  return { ...base, z, source: 'learned' };
}
