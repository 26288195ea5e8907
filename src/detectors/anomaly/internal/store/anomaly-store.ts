import type Database from 'better-sqlite3';
import type { Reason } from '../../attributes.js';
import type { CountQuery, CountRow } from '../anomaly-counts.js';
import type { AnomalyQuery, AnomalyRecord } from '../anomaly-record.js';
import type { Scope } from '../slots.js';

/** A row of the history table (the same columns in SQLite and PostgreSQL). */
export interface AnomalyRow {
  id: string;
  trace_id: string;
  span_id: string;
  service: string;
  operation: string;
  kind: number;
  start_ms: number;
  duration_ms: number;
  severity: number;
  detector: string;
  score: number;
  ratio: number;
  baseline_mean_ms: number;
  baseline_stddev_ms: number;
  baseline_p99_ms: number;
  baseline_samples: number;
  baseline_scope: Scope;
  baseline_window: string;
  recorded_at: number;
  summary: string | null;
  reason: Reason;
  operation_ratio: number | null;
  error_rate: number | null;
  baseline_error_rate: number | null;
  error_type: string | null;
  observed_rate: number | null;
  expected_rate: number | null;
  window_end_ms: number | null;
  seq: number | null;
}

/**
 * The anomaly history: every tagged span, kept for `history_retention` and at most `max_history`
 * rows (the oldest recorded go first). Inserts are idempotent by id (trace id + span id), so a batch
 * a client re-sends after a refusal is recorded once.
 */
export class AnomalyStore {
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly summaryStmt;
  private readonly trimStmt;
  /** Rows in the table: counted once at open, then kept as rows are inserted and deleted. */
  private rows: number;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO anomalies (id, trace_id, span_id, service, operation, kind, start_ms,
         duration_ms, severity, detector, score, ratio, baseline_mean_ms, baseline_stddev_ms,
         baseline_p99_ms, baseline_samples, baseline_scope, baseline_window, recorded_at, summary,
         reason, operation_ratio, error_rate, baseline_error_rate, error_type, observed_rate,
         expected_rate, window_end_ms, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteStmt = db.prepare('DELETE FROM anomalies WHERE recorded_at < ?');
    this.summaryStmt = db.prepare('UPDATE anomalies SET summary = ? WHERE id = ?');
    this.trimStmt = db.prepare(
      'DELETE FROM anomalies WHERE id IN (SELECT id FROM anomalies ORDER BY recorded_at LIMIT ?)',
    );
    this.rows = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM anomalies').get()!.n;
  }

  /** Rows in the history now. */
  get size(): number {
    return this.rows;
  }

  /**
   * Call inside a transaction. Beyond `max` rows (and 1% more, so that a history at its bound is not
   * trimmed at every flush), deletes the oldest recorded down to `max`. Returns how many.
   */
  trim(max: number): number {
    if (this.rows <= max + Math.floor(max / 100)) return 0;
    const deleted = this.trimStmt.run(this.rows - max).changes;
    this.rows -= deleted;
    return deleted;
  }

  /** Call inside a transaction. Writes summaries onto recorded anomalies; returns the ids found. */
  setSummaries(entries: readonly [string, string][]): Set<string> {
    const found = new Set<string>();
    for (const [id, summary] of entries) {
      if (this.summaryStmt.run(summary, id).changes > 0) found.add(id);
    }
    return found;
  }

  /** Call inside a transaction. */
  insert(records: readonly AnomalyRecord[]): void {
    for (const r of records) {
      this.rows += this.insertStmt.run(...rowValues(r)).changes;
    }
  }

  /** Newest first (by span start time). */
  query(q: AnomalyQuery): AnomalyRecord[] {
    const { where, args } = filterWhere(q);
    const sql = `SELECT * FROM anomalies ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY start_ms DESC LIMIT ?`;
    return this.db
      .prepare<(string | number)[], AnomalyRow>(sql)
      .all(...args, q.limit)
      .map(fromRow);
  }

  /**
   * The anomalies published after `seq` (in the order they were published) that match `q`, at most
   * `limit`: what an event stream that last sent `seq` missed.
   */
  after(seq: number, q: Omit<AnomalyQuery, 'limit' | 'sinceMs'>, limit: number): AnomalyRecord[] {
    const { where, args } = filterWhere(q);
    where.push('seq > ?');
    args.push(seq);
    return this.db
      .prepare<(string | number)[], AnomalyRow>(
        `SELECT * FROM anomalies WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
      )
      .all(...args, limit)
      .map(fromRow);
  }

  /** Whether the anomaly published as `seq` is in the history. */
  hasSeq(seq: number): boolean {
    return this.db.prepare('SELECT 1 FROM anomalies WHERE seq = ?').get(seq) !== undefined;
  }

  /** Tagged spans per service, severity and step of `q` (by span start time). */
  counts(q: CountQuery): CountRow[] {
    const where = ['start_ms >= ?', 'start_ms < ?'];
    const args: (string | number)[] = [q.sinceMs, q.stepMs, q.sinceMs, q.untilMs];
    if (q.service !== undefined) {
      where.push('service = ?');
      args.push(q.service);
    }
    if (q.minSeverity !== undefined) {
      where.push('severity <= ?');
      args.push(q.minSeverity);
    }
    const sql = `SELECT service, severity, CAST((start_ms - ?) / ? AS INTEGER) AS step, COUNT(*) AS n
      FROM anomalies WHERE ${where.join(' AND ')} GROUP BY service, severity, step`;
    return this.db.prepare<(string | number)[], CountRow>(sql).all(...args);
  }

  /** Retention: drops anomalies recorded before `ms`. */
  deleteRecordedBefore(ms: number): number {
    const deleted = this.deleteStmt.run(ms).changes;
    this.rows -= deleted;
    return deleted;
  }
}

/** The conditions (and their arguments) of a history query's filters. */
function filterWhere(q: Omit<AnomalyQuery, 'limit'>): {
  where: string[];
  args: (string | number)[];
} {
  const where: string[] = [];
  const args: (string | number)[] = [];
  for (const [condition, value] of [
    ['service = ?', q.service],
    ['operation = ?', q.operation],
    ['severity <= ?', q.minSeverity],
    ['start_ms >= ?', q.sinceMs],
  ] as const) {
    if (value === undefined) continue;
    where.push(condition);
    args.push(value);
  }
  return { where, args };
}

/** A record's column values, in the order of the table's columns. */
export function rowValues(r: AnomalyRecord): (string | number | null)[] {
  return [
    r.id,
    r.traceId,
    r.spanId,
    r.service,
    r.operation,
    r.kind,
    r.startMs,
    r.durationMs,
    r.severity,
    r.detector,
    r.score,
    r.ratio,
    r.meanMs,
    r.stddevMs,
    r.p99Ms,
    r.samples,
    r.scope,
    r.window,
    r.recordedAt,
    r.summary,
    r.reason,
    finite(r.operationRatio),
    finite(r.errorRate),
    finite(r.baselineErrorRate),
    r.errorType ?? null,
    finite(r.observedRate),
    finite(r.expectedRate),
    finite(r.windowEndMs),
    r.seq === 0 ? null : r.seq,
  ];
}

export function fromRow(r: AnomalyRow): AnomalyRecord {
  return {
    id: r.id,
    traceId: r.trace_id,
    spanId: r.span_id,
    service: r.service,
    operation: r.operation,
    kind: r.kind,
    startMs: r.start_ms,
    durationMs: r.duration_ms,
    severity: r.severity,
    detector: r.detector,
    score: r.score,
    ratio: r.ratio,
    meanMs: r.baseline_mean_ms,
    stddevMs: r.baseline_stddev_ms,
    p99Ms: r.baseline_p99_ms,
    samples: r.baseline_samples,
    scope: r.baseline_scope,
    window: r.baseline_window,
    recordedAt: r.recorded_at,
    summary: r.summary,
    reason: r.reason,
    operationRatio: r.operation_ratio ?? Number.NaN,
    seq: r.seq ?? 0,
    ...(r.error_rate !== null && {
      errorRate: r.error_rate,
      baselineErrorRate: r.baseline_error_rate ?? Number.NaN,
      ...(r.error_type !== null && { errorType: r.error_type }),
    }),
    ...(r.observed_rate !== null && {
      observedRate: r.observed_rate,
      expectedRate: r.expected_rate ?? Number.NaN,
      ...(r.window_end_ms !== null && { windowEndMs: r.window_end_ms }),
    }),
  };
}

const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
