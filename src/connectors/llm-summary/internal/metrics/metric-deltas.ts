import { isError } from './metric-readings.js';
import type { JsonMetric, Point } from './metric-points.js';

/** The last cumulative value of a series, to turn the next one into a delta. */
export interface Prior {
  readonly t: number;
  readonly value: number;
  readonly count: number;
  readonly buckets: readonly number[];
}

/** What one collection of a metric adds up to, over all its series. */
export interface Deltas {
  readonly value: number;
  readonly count: number;
  readonly errors: number;
  /** The interval covered; 0 when unknown (no rate then). */
  readonly seconds: number;
  readonly buckets: readonly number[];
  readonly bounds: readonly number[];
}

/** Series remembered per service for cumulative deltas; beyond, they are forgotten at once. */
const MAX_PRIORS = 512;

/**
 * What happened since the previous collection, summed over the points of one time: values,
 * counts, errors and bucket counts (cumulative series against their prior value, delta series
 * as they are), and the interval they cover.
 */
export function deltasOf(
  priors: Map<string, Prior>,
  m: JsonMetric,
  list: readonly Point[],
  windowMs: number,
): Deltas | undefined {
  const cumulative = (m.sum ?? m.histogram)?.aggregationTemporality === 2;
  let value = 0;
  let count = 0;
  let errors = 0;
  let seconds = 0;
  let any = false;
  const bounds = list.find((p) => p.bounds.length > 0)?.bounds ?? [];
  const buckets = new Array<number>(bounds.length + 1).fill(0);
  for (const p of list) {
    let dv = p.value;
    let dc = p.count;
    let db = p.buckets;
    let from = p.start;
    if (cumulative) {
      const key = `${m.name!}\u0000${p.key}`;
      const prior = priors.get(key);
      if (priors.size >= MAX_PRIORS && !prior) priors.clear();
      priors.set(key, { t: p.t, value: p.value, count: p.count, buckets: p.buckets });
      if (prior && prior.t >= p.t) continue;
      // A first value covers the series' whole life: used only when that is recent.
      if (!prior && !(p.t - p.start <= windowMs)) continue;
      if (prior) from = prior.t;
      if (prior && p.count >= prior.count && p.value >= prior.value) {
        dv = p.value - prior.value;
        dc = p.count - prior.count;
        db = p.buckets.map((b, i) => b - (prior.buckets[i] ?? 0));
      } // else the series restarted: what it holds now is all since the restart
    }
    any = true;
    // A series created just before it was collected covers no time: no rate, but its counts.
    if (from > 0 && from < p.t) seconds = Math.max(seconds, (p.t - from) / 1000);
    value += dv;
    count += dc;
    if (isError(p.attrs)) errors += dc;
    if (sameBounds(p.bounds, bounds)) db.forEach((b, i) => (buckets[i]! += b));
  }
  return any ? { value, count, errors, seconds, buckets, bounds } : undefined;
}

/** The value at quantile `q` of a histogram, interpolated inside its bucket. */
export function percentile(
  buckets: readonly number[],
  bounds: readonly number[],
  q: number,
): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (!(total > 0) || bounds.length === 0) return undefined;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < buckets.length; i++) {
    const before = cum;
    cum += buckets[i]!;
    if (cum < rank || buckets[i] === 0) continue;
    const lower = i === 0 ? Math.min(0, bounds[0]!) : bounds[i - 1]!;
    if (i >= bounds.length) return lower; // the overflow bucket has no upper bound
    return lower + (bounds[i]! - lower) * ((rank - before) / buckets[i]!);
  }
  return bounds[bounds.length - 1];
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
