import type { Operation } from './fleet.js';

/**
 * Daily and weekly seasonality of an online shop, in UTC: traffic by hour of day (quiet nights, a
 * morning rush, a lunch dip, an evening peak), lower and later on weekends. The load is
 * interpolated smoothly between hourly anchors, so an hour bucket sees its load change within the
 * hour (the morning ramp) as real traffic does.
 */

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

// Load at the start of each hour, relative to an average busy hour.
// prettier-ignore
const WEEKDAY = [0.22, 0.16, 0.13, 0.12, 0.12, 0.16, 0.32, 0.65, 1.15, 1.55, 1.6, 1.55,
  1.4, 1.45, 1.4, 1.35, 1.3, 1.3, 1.35, 1.45, 1.4, 1.05, 0.65, 0.38];
// prettier-ignore
const WEEKEND = [0.3, 0.22, 0.16, 0.12, 0.11, 0.11, 0.14, 0.24, 0.42, 0.62, 0.8, 0.9,
  0.95, 0.92, 0.88, 0.88, 0.9, 0.95, 1.0, 1.05, 1.0, 0.8, 0.55, 0.38];

/** 0 = Monday .. 6 = Sunday, for a UTC day number (1970-01-01 was a Thursday). */
export function dayOfWeek(ms: number): number {
  const day = Math.floor(ms / DAY);
  return (((day + 3) % 7) + 7) % 7;
}

function anchor(dow: number, hour: number): number {
  return (dow >= 5 ? WEEKEND : WEEKDAY)[hour]!;
}

/** The load at instant `ms`: smooth (cosine) interpolation between the hourly anchors. */
export function load(ms: number): number {
  const hourIndex = Math.floor(ms / HOUR);
  const frac = ms / HOUR - hourIndex;
  const a = anchor(dayOfWeek(ms), hourIndex % 24);
  const nextMs = (hourIndex + 1) * HOUR;
  const b = anchor(dayOfWeek(nextMs), (hourIndex + 1) % 24);
  const w = (1 - Math.cos(Math.PI * frac)) / 2;
  return a + (b - a) * w;
}

/**
 * How much slower an operation is at `load` than at load 1: a queue's response time,
 * `(1 - u) / (1 - u * load)` for utilisation `u` at load 1 (capped before saturation).
 */
export function latencyFactor(op: Operation, atLoad: number): number {
  const u = op.utilization;
  if (u === 0) return 1;
  return (1 - u) / Math.max(0.05, 1 - u * atLoad);
}
