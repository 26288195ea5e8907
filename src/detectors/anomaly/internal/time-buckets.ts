/**
 * Day-of-week x hour-of-day buckets in an IANA time zone, by a span's own start time.
 *
 * A local time is described by two integers: the local day number (days since 1970-01-01 in the
 * zone's wall-clock calendar) and the local hour 0..23. `dayHour = day * 24 + hour` packs both
 * into one number, which is also the key of a daily statistics row. The day-of-week follows from
 * the day number (0 = Monday .. 6 = Sunday; 1970-01-01 was a Thursday).
 *
 * UTC offsets come from `Intl.DateTimeFormat` and are cached per 15-minute slot of UTC time (every
 * daylight-saving change of the current tz database happens on a quarter hour), so the hot path is
 * a few arithmetic operations and, at most, one Map lookup.
 */

export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;
const SLOT_MS = 900_000;
const MAX_CACHED_SLOTS = 8192;

export const DOW_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** True if `zone` is a time zone the runtime knows (`UTC`, `Europe/Berlin`, ...). */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function dayOfWeek(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

export class TimeBuckets {
  private readonly format: Intl.DateTimeFormat;
  private lastSlot = Number.NaN;
  private lastOffset = 0;
  private readonly slots = new Map<number, number>();

  constructor(readonly timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The zone's UTC offset in ms at the instant `utcMs` (Berlin in summer: +7_200_000). */
  offsetMs(utcMs: number): number {
    const slot = Math.floor(utcMs / SLOT_MS);
    if (slot === this.lastSlot) return this.lastOffset;
    let offset = this.slots.get(slot);
    if (offset === undefined) {
      offset = this.computeOffset(slot * SLOT_MS);
      if (this.slots.size >= MAX_CACHED_SLOTS) this.slots.clear();
      this.slots.set(slot, offset);
    }
    this.lastSlot = slot;
    this.lastOffset = offset;
    return offset;
  }

  /** `localDay * 24 + localHour` of the instant `utcMs`. */
  dayHour(utcMs: number): number {
    return Math.floor((utcMs + this.offsetMs(utcMs)) / MS_PER_HOUR);
  }

  /** The local day number of the instant `utcMs`. */
  day(utcMs: number): number {
    return Math.floor((utcMs + this.offsetMs(utcMs)) / MS_PER_DAY);
  }

  private computeOffset(utcMs: number): number {
    const parts = this.format.formatToParts(new Date(utcMs));
    const get = (type: Intl.DateTimeFormatPartTypes): number => {
      for (const p of parts) if (p.type === type) return Number(p.value);
      throw new Error(`Intl.DateTimeFormat gave no ${type} for ${this.timeZone}`);
    };
    const wall = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return wall - Math.floor(utcMs / 1000) * 1000;
  }
}

/** The dow_hour bucket (0..167: Monday 00:00 is 0, Sunday 23:00 is 167) of a packed dayHour. */
export function bucketOfDayHour(dayHour: number): number {
  const day = Math.floor(dayHour / 24);
  return dayOfWeek(day) * 24 + (dayHour - day * 24);
}
