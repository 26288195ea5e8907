import { DOW_BASE, GLOBAL_SLOT, HOUR_BASE } from '../slots.js';
import {
  R_ERRORS,
  R_ERR_SPANS,
  R_MINUTES,
  R_SPANS,
  R_STRIDE,
  R_SUMSQ,
  RATE_BUCKETS,
  type Expectation,
} from './rate-state.js';

/**
 * What a key's rates usually are in dow_hour `bucket`, with the latency baselines' fallback chain:
 * the bucket itself, else its hour over all days, else its day over all hours, else the whole
 * week, each only with enough behind it (`minMinutes` observed minutes for the traffic,
 * `minErrSpans` spans for the error share). A coarser level pools minutes of other hours and
 * days: its per-minute variance is wider, so it judges traffic more leniently, as it should.
 */
export function expectationOf(
  stats: Float64Array,
  bucket: number,
  minMinutes: number,
  minErrSpans: number,
  out: Expectation,
): void {
  out.slot = -1;
  out.mu = 0;
  out.phi = 1;
  out.minutes = 0;
  out.errSlot = -1;
  out.errRate = Number.NaN;
  out.errSpans = 0;
  const sum = new Float64Array(R_STRIDE);
  const dow = (bucket / 24) | 0;
  const hour = bucket - dow * 24;
  for (let level = 0; level < 4; level++) {
    sum.fill(0);
    if (level === 0) add(stats, bucket, sum);
    else if (level === 1) for (let d = 0; d < 7; d++) add(stats, d * 24 + hour, sum);
    else if (level === 2) for (let h = 0; h < 24; h++) add(stats, dow * 24 + h, sum);
    else for (let b = 0; b < RATE_BUCKETS; b++) add(stats, b, sum);
    const slot =
      level === 0
        ? bucket
        : level === 1
          ? HOUR_BASE + hour
          : level === 2
            ? DOW_BASE + dow
            : GLOBAL_SLOT;
    const minutes = sum[R_MINUTES]!;
    if (out.slot < 0 && minutes >= minMinutes) {
      const mu = sum[R_SPANS]! / minutes;
      const variance =
        Math.max(0, sum[R_SUMSQ]! / minutes - mu * mu) * (minutes / Math.max(1, minutes - 1));
      out.slot = slot;
      out.mu = mu;
      out.minutes = minutes;
      out.phi = mu > 0 ? Math.max(1, variance / mu) : 1;
    }
    const errSpans = sum[R_ERR_SPANS]!;
    if (out.errSlot < 0 && errSpans >= minErrSpans) {
      out.errSlot = slot;
      out.errSpans = errSpans;
      out.errRate = sum[R_ERRORS]! / errSpans;
    }
    if (out.slot >= 0 && out.errSlot >= 0) return;
  }
}

function add(stats: Float64Array, bucket: number, sum: Float64Array): void {
  const at = bucket * R_STRIDE;
  for (let k = 0; k < R_STRIDE; k++) sum[k]! += stats[at + k]!;
}
