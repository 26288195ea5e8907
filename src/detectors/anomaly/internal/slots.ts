import { DOW_NAMES } from './time-buckets.js';

/**
 * The baselines of one key live in 200 slots, one per bucket of each fallback level:
 *
 *   0..167    dow_hour  (day-of-week x hour-of-day, Monday 00:00 first)
 *   168..191  hour      (hour-of-day over all days)
 *   192..198  dow       (day-of-week over all hours)
 *   199       global
 *
 * Lookup goes down that list: the first level whose slot has `min_samples` serves.
 */
export const SCOPES = ['dow_hour', 'hour', 'dow', 'global'] as const;
export type Scope = (typeof SCOPES)[number];

export const HOUR_BASE = 168;
export const DOW_BASE = 192;
export const GLOBAL_SLOT = 199;
export const SLOT_COUNT = 200;

/** The four slots a span in dow_hour bucket `bucket` (0..167) feeds, most specific first. */
export function slotsOfBucket(bucket: number): [number, number, number, number] {
  const dow = Math.floor(bucket / 24);
  return [bucket, HOUR_BASE + (bucket - dow * 24), DOW_BASE + dow, GLOBAL_SLOT];
}

export function scopeOfSlot(slot: number): Scope {
  if (slot < HOUR_BASE) return 'dow_hour';
  if (slot < DOW_BASE) return 'hour';
  if (slot < GLOBAL_SLOT) return 'dow';
  return 'global';
}

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

/** Human form of a slot, as written in `anomaly.baseline.window`: `Mon 09:00-10:00 UTC`. */
export function windowLabel(slot: number, timeZone: string): string {
  if (slot < HOUR_BASE) {
    const dow = Math.floor(slot / 24);
    const hour = slot - dow * 24;
    return `${DOW_NAMES[dow]} ${hh(hour)}-${hh(hour + 1)} ${timeZone}`;
  }
  if (slot < DOW_BASE) {
    const hour = slot - HOUR_BASE;
    return `daily ${hh(hour)}-${hh(hour + 1)} ${timeZone}`;
  }
  if (slot < GLOBAL_SLOT) return `${DOW_NAMES[slot - DOW_BASE]} 00:00-24:00 ${timeZone}`;
  return `all week ${timeZone}`;
}

/** The labels of all 200 slots, made once per processor so tagging allocates no strings. */
export function windowLabels(timeZone: string): readonly string[] {
  return Array.from({ length: SLOT_COUNT }, (_, slot) => windowLabel(slot, timeZone));
}
