import { TimeBuckets, dayOfWeek } from '../../src/detectors/anomaly/internal/time-buckets.js';
import { Random } from '../../test/detectors/helpers/random.js';

/** One checkout: when, and how long its two leaf calls take. */
export interface Checkout {
  readonly startMs: number;
  readonly dbMs: number;
  readonly authorizeMs: number;
}

/**
 * Seasonal traffic: more checkouts and slower calls at rush hours on weekdays, fewer and faster
 * at night, and a settlement batch that makes card authorizations ~8x slower every Saturday at
 * 03:00. Log-normal noise; seeded, so every run shows the same story.
 */
export class Traffic {
  private readonly random = new Random(20260105);
  private readonly buckets: TimeBuckets;

  constructor(timeZone: string) {
    this.buckets = new TimeBuckets(timeZone);
  }

  /** Median card authorization time (ms) by day of week (0 = Monday) and local hour. */
  authorizeMedian(dow: number, hour: number): number {
    if (dow === 5 && hour === 3) return 950;
    return 110 * this.load(dow, hour);
  }

  *checkouts(fromMs: number, toMs: number): Generator<Checkout> {
    for (let hourStart = fromMs; hourStart < toMs; hourStart += 3_600_000) {
      const dayHour = this.buckets.dayHour(hourStart);
      const day = Math.floor(dayHour / 24);
      const dow = dayOfWeek(day);
      const hour = dayHour - day * 24;
      const load = this.load(dow, hour);
      const n = Math.round(30 * load);
      for (let i = 0; i < n; i++) {
        yield {
          startMs: hourStart + Math.floor((i + this.random.next()) * (3_600_000 / n)),
          dbMs: this.latency(9 * load, 0.25),
          authorizeMs: this.latency(this.authorizeMedian(dow, hour), 0.2),
        };
      }
    }
  }

  /** How busy an hour is: 1.8 at weekday rush hours, 0.6 at night. */
  private load(dow: number, hour: number): number {
    if (hour < 6) return 0.6;
    if (dow < 5 && ((hour >= 8 && hour < 12) || (hour >= 17 && hour < 20))) return 1.8;
    return dow < 5 ? 1.2 : 0.9;
  }

  /** Log-normal, rounded to whole microseconds. */
  private latency(median: number, sigma: number): number {
    return Math.round(this.random.latency(median, sigma) * 1000) / 1000;
  }
}
