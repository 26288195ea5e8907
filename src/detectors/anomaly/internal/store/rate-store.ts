import type Database from 'better-sqlite3';
import {
  R_ERRORS,
  R_ERR_SPANS,
  R_MINUTES,
  R_SPANS,
  R_STRIDE,
  R_SUMSQ,
  RATE_BUCKETS,
} from '../rates/rate-state.js';

/** The table of the error and traffic baselines (schema version 3, open-database.ts). */
export const RATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS rate_stats (
  key_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  minutes REAL NOT NULL,
  spans REAL NOT NULL,
  sum_sq REAL NOT NULL,
  err_spans REAL NOT NULL,
  errors REAL NOT NULL,
  PRIMARY KEY (key_id, day, hour)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rate_stats_by_day ON rate_stats (day);
`;

/**
 * Keys that had spans from local day `?` on by their rate rows (every minute of a key is learned,
 * its empty ones too): an operation whose every span fails has rate rows only, and is neither an
 * orphan nor idle (baseline-store.ts).
 */
export const RATE_ACTIVE =
  'SELECT key_id FROM rate_stats WHERE day >= ? AND (spans > 0 OR err_spans > 0)';

/** A row of the error and traffic baselines (sums: a fleet's is the sum of its instances'). */
export interface RateRow {
  key_id: number;
  day: number;
  hour: number;
  minutes: number;
  spans: number;
  sum_sq: number;
  err_spans: number;
  errors: number;
}

/**
 * The error and traffic baselines in SQLite: per key, local day and hour, the minutes observed,
 * their spans and squared per-minute counts, and the spans and errors of the error share. Merged
 * into at every flush (in its transaction), read back as the window at start and at every daily
 * roll, like the latency's daily rows.
 */
export class RateStore {
  private readonly mergeStmt;
  private readonly windowStmt;
  private readonly retentionStmt;

  constructor(db: Database.Database) {
    this.mergeStmt = db.prepare(
      `INSERT INTO rate_stats (key_id, day, hour, minutes, spans, sum_sq, err_spans, errors)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id, day, hour) DO UPDATE SET minutes = minutes + excluded.minutes,
         spans = spans + excluded.spans, sum_sq = sum_sq + excluded.sum_sq,
         err_spans = err_spans + excluded.err_spans, errors = errors + excluded.errors`,
    );
    this.windowStmt = db.prepare<[number], RateRow>('SELECT * FROM rate_stats WHERE day >= ?');
    this.retentionStmt = db.prepare(
      'DELETE FROM rate_stats WHERE day < ? OR key_id NOT IN (SELECT id FROM keys)',
    );
  }

  /** Adds one (local day * 24 + hour) row of a key (call inside a transaction). */
  merge(keyId: number, dayHour: number, v: Float64Array): void {
    const day = Math.floor(dayHour / 24);
    this.mergeStmt.run(
      keyId,
      day,
      dayHour - day * 24,
      v[R_MINUTES]!,
      v[R_SPANS]!,
      v[R_SUMSQ]!,
      v[R_ERR_SPANS]!,
      v[R_ERRORS]!,
    );
  }

  /** Every key's window from `sinceDay` on, per dow_hour bucket. */
  window(sinceDay: number, bucketOf: (dayHour: number) => number): Map<number, Float64Array> {
    const out = new Map<number, Float64Array>();
    for (const r of this.windowStmt.iterate(sinceDay)) {
      let w = out.get(r.key_id);
      if (!w) out.set(r.key_id, (w = new Float64Array(RATE_BUCKETS * R_STRIDE)));
      const at = bucketOf(r.day * 24 + r.hour) * R_STRIDE;
      w[at + R_MINUTES]! += r.minutes;
      w[at + R_SPANS]! += r.spans;
      w[at + R_SUMSQ]! += r.sum_sq;
      w[at + R_ERR_SPANS]! += r.err_spans;
      w[at + R_ERRORS]! += r.errors;
    }
    return out;
  }

  /** Retention: rows older than `day`, and rows of keys deleted. Returns the rows deleted. */
  deleteBefore(day: number): number {
    return this.retentionStmt.run(day).changes;
  }
}
