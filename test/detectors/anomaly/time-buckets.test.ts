import { describe, expect, it } from 'vitest';
import { slotsOfBucket, windowLabel } from '../../../src/detectors/anomaly/internal/slots.js';
import {
  bucketOfDayHour,
  dayOfWeek,
  isValidTimeZone,
  TimeBuckets,
} from '../../../src/detectors/anomaly/internal/time-buckets.js';

/** dow (0 = Monday) and hour of an instant in a zone, as Intl formats them: the reference. */
function reference(zone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    weekday: 'short',
    hour: 'numeric',
    hourCycle: 'h23',
  });
  return (ms) => {
    const parts = format.formatToParts(new Date(ms));
    const weekday = parts.find((p) => p.type === 'weekday')!.value;
    const hour = Number(parts.find((p) => p.type === 'hour')!.value);
    return `${['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(weekday)}/${hour}`;
  };
}

function bucket(tb: TimeBuckets, iso: string): { dow: number; hour: number; bucket: number } {
  const dh = tb.dayHour(Date.parse(iso));
  const day = Math.floor(dh / 24);
  return { dow: dayOfWeek(day), hour: dh - day * 24, bucket: bucketOfDayHour(dh) };
}

describe('time buckets', () => {
  it('puts hour boundaries in UTC exactly where they are', () => {
    const tb = new TimeBuckets('UTC');
    expect(bucket(tb, '2026-01-05T09:00:00.000Z')).toEqual({ dow: 0, hour: 9, bucket: 9 });
    expect(bucket(tb, '2026-01-05T09:59:59.999Z')).toEqual({ dow: 0, hour: 9, bucket: 9 });
    expect(bucket(tb, '2026-01-05T10:00:00.000Z')).toEqual({ dow: 0, hour: 10, bucket: 10 });
    // Sunday 23:59:59.999 is the last bucket; the next millisecond is Monday 00:00, bucket 0.
    expect(bucket(tb, '2026-01-11T23:59:59.999Z')).toEqual({ dow: 6, hour: 23, bucket: 167 });
    expect(bucket(tb, '2026-01-12T00:00:00.000Z')).toEqual({ dow: 0, hour: 0, bucket: 0 });
    // The epoch was a Thursday; dates before it work too.
    expect(bucket(tb, '1970-01-01T00:00:00.000Z').dow).toBe(3);
    expect(bucket(tb, '1969-12-29T05:00:00.000Z')).toEqual({ dow: 0, hour: 5, bucket: 5 });
  });

  it('buckets by local time in Europe/Berlin across both daylight-saving changes', () => {
    const tb = new TimeBuckets('Europe/Berlin');
    expect(bucket(tb, '2026-01-05T08:30:00Z')).toMatchObject({ dow: 0, hour: 9 }); // CET, +1
    expect(bucket(tb, '2026-07-06T07:30:00Z')).toMatchObject({ dow: 0, hour: 9 }); // CEST, +2
    // 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST; there is no local hour 2.
    expect(bucket(tb, '2026-03-29T00:59:59.999Z')).toMatchObject({ dow: 6, hour: 1 });
    expect(bucket(tb, '2026-03-29T01:00:00.000Z')).toMatchObject({ dow: 6, hour: 3 });
    // 2026-10-25 (Sunday): 03:00 CEST falls back to 02:00 CET; local hour 2 happens twice.
    expect(bucket(tb, '2026-10-25T00:30:00Z')).toMatchObject({ dow: 6, hour: 2 });
    expect(bucket(tb, '2026-10-25T01:30:00Z')).toMatchObject({ dow: 6, hour: 2 });
    expect(bucket(tb, '2026-10-25T02:00:00Z')).toMatchObject({ dow: 6, hour: 3 });
    // Both halves of the doubled hour are on the same local day.
    expect(tb.day(Date.parse('2026-10-25T00:30:00Z'))).toBe(
      tb.day(Date.parse('2026-10-25T01:30:00Z')),
    );
  });

  it('buckets by local time in America/New_York across both daylight-saving changes', () => {
    const tb = new TimeBuckets('America/New_York');
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    expect(bucket(tb, '2026-03-08T06:59:00Z')).toMatchObject({ dow: 6, hour: 1 });
    expect(bucket(tb, '2026-03-08T07:00:00Z')).toMatchObject({ dow: 6, hour: 3 });
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST.
    expect(bucket(tb, '2026-11-01T05:30:00Z')).toMatchObject({ dow: 6, hour: 1 });
    expect(bucket(tb, '2026-11-01T06:30:00Z')).toMatchObject({ dow: 6, hour: 1 });
    // Monday 09:00 in New York is 14:00 UTC in winter.
    expect(bucket(tb, '2026-01-05T14:00:00Z')).toMatchObject({ dow: 0, hour: 9, bucket: 9 });
  });

  it.each(['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'])(
    'agrees with Intl every 15 minutes of a year in %s (cache order does not matter)',
    (zone) => {
      const tb = new TimeBuckets(zone);
      const start = Date.parse('2026-01-01T00:00:00Z');
      const step = 15 * 60_000;
      const times: number[] = [];
      for (let t = start; t < start + 366 * 86_400_000; t += step) times.push(t + 7 * 60_000);
      // Visit out of order too, so that cached offsets are reused across the year.
      const order = [...times, ...times.slice().reverse()];
      const expected = reference(zone);
      const mismatches: string[] = [];
      for (const t of order) {
        const dh = tb.dayHour(t);
        const day = Math.floor(dh / 24);
        const got = `${dayOfWeek(day)}/${dh - day * 24}`;
        const want = expected(t);
        if (got !== want) mismatches.push(`${new Date(t).toISOString()}: ${got} != ${want}`);
      }
      expect(mismatches).toEqual([]);
      expect(order.length).toBeGreaterThan(70_000);
    },
  );

  it('validates zone names', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('labels slots as DESIGN.md shows and maps a bucket to its four slots', () => {
    expect(windowLabel(9, 'UTC')).toBe('Mon 09:00-10:00 UTC');
    expect(windowLabel(167, 'Europe/Berlin')).toBe('Sun 23:00-24:00 Europe/Berlin');
    expect(windowLabel(168 + 9, 'UTC')).toBe('daily 09:00-10:00 UTC');
    expect(windowLabel(192 + 4, 'UTC')).toBe('Fri 00:00-24:00 UTC');
    expect(windowLabel(199, 'UTC')).toBe('all week UTC');
    expect(slotsOfBucket(24 * 4 + 13)).toEqual([109, 168 + 13, 192 + 4, 199]);
  });
});
