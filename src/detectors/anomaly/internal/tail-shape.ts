import type { Sketch } from './sketch.js';

/**
 * The shape of one key's latency distribution, pooled over its buckets: each bucket's sketch is
 * standardised in log space, `z = (ln x - ln p50) / scale` with `scale = (ln p90 - ln p50) / 1.2816`
 * (a log-normal bucket gives a standard normal z), and the z values of all buckets are counted
 * together. Rush hour and quiet night differ in level and spread, but an operation's tail (how
 * often a call hits a cache miss, a retry, a GC pause) is the same shape at both; pooled, a key's
 * 30 days give the extreme percentiles (p99.99 needs 100,000 spans) that no single bucket holds.
 *
 * Beyond what the data can show (fewer than TAIL_MIN values past a percentile), the tail is
 * extrapolated as exponential in z (a Pareto tail in duration): heavier than a log-normal, so the
 * rare severities err on the side of silence. How heavy is bounded in duration by the caller
 * (`shown()`, thresholds.ts): no heavier than a Pareto tail of index 1 beyond the highest
 * percentile the shape shows.
 */
export const TAIL_MIN = 10;
/** probit(0.9): a bucket's scale is its p50..p90 distance over this. */
const Z90 = 1.2815515655446004;
/** The smallest scale (log space): an operation that always takes the same time varies by 1%. */
const MIN_SCALE = 0.01;
const Z_LOW = -10;
const Z_HIGH = 80;
const STEP = 0.02;
const BINS = Math.round((Z_HIGH - Z_LOW) / STEP) + 1;
const LADDER = [0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999];

export interface LogScale {
  /** ln p50 */
  readonly location: number;
  readonly scale: number;
}

/** Location and scale (log space) of a sketch, from its p50 and p90. */
export function logScale(sketch: Sketch): LogScale {
  const location = Math.log(Math.max(sketch.quantile(0.5), 1e-6));
  const p90 = Math.log(Math.max(sketch.quantile(0.9), 1e-6));
  return { location, scale: Math.max((p90 - location) / Z90, MIN_SCALE) };
}

export class TailShape {
  private readonly counts = new Float64Array(BINS);
  total = 0;

  /** Adds a sketch's values, standardised with a location and scale. */
  add(sketch: Sketch, location: number, scale: number): void {
    sketch.forEachBin((value, count) => {
      const z = (Math.log(value) - location) / scale;
      const i = Math.round((z - Z_LOW) / STEP);
      this.counts[i < 0 ? 0 : i >= BINS ? BINS - 1 : i]! += count;
      this.total += count;
    });
  }

  /** True when at least TAIL_MIN values lie beyond the q-quantile. */
  trusted(q: number): boolean {
    return this.total * (1 - q) >= TAIL_MIN;
  }

  /** The q-quantile of z as counted (NaN when empty). */
  empirical(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = q * (this.total - 1);
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.counts[i]!;
      if (seen > rank) return Z_LOW + i * STEP;
    }
    return Z_HIGH;
  }

  /**
   * The highest percentile the shape shows (TAIL_MIN values beyond it) and its z, read as
   * `quantile` reads a trusted percentile (an upper confidence bound); undefined while not even
   * p90 is shown. Beyond it, a slot's tail is no heavier than Pareto of index 1 when its duration
   * at `z`, times `(1 - q) / (1 - q')`, bounds its percentile q'.
   */
  shown(): { readonly q: number; readonly z: number } | undefined {
    const q = 1 - TAIL_MIN / this.total;
    if (!(q >= 0.9)) return undefined;
    const rarer = 1 - (1 - q) * Math.max(0.25, 1 - 2.326 / Math.sqrt(TAIL_MIN));
    return { q, z: this.empirical(rarer) };
  }

  /**
   * An upper confidence bound on the q-quantile of z: read at a rarer percentile, as rare as a
   * one-sided 99% lower bound on the count of values beyond it (10 values beyond: a quarter),
   * so that the noise of a few counts does not make thresholds fire more often than their
   * percentile. Counted where trusted, else extrapolated from the two highest trusted ladder
   * percentiles a decade of rarity apart (an exponential tail). NaN while not even p90 is trusted.
   */
  quantile(q: number): number {
    const beyond = Math.max(TAIL_MIN, this.total * (1 - q));
    const rarer = 1 - (1 - q) * Math.max(0.25, 1 - 2.326 / Math.sqrt(beyond));
    if (this.trusted(q)) return this.empirical(rarer);
    const trusted = LADDER.filter((p) => this.trusted(p));
    const qb = trusted[trusted.length - 1];
    if (qb === undefined || qb < 0.9) return Number.NaN;
    const qa = trusted[trusted.length - 2]!;
    const zb = this.empirical(qb);
    const slope = Math.max(0, (zb - this.empirical(qa)) / Math.log((1 - qa) / (1 - qb)));
    return zb + slope * Math.log((1 - qb) / (1 - rarer));
  }
}
