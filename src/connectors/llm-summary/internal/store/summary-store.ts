import { dirname, resolve } from 'node:path';
import { makeDirsSync } from '../../../../component/make-dirs.js';
import Database from 'better-sqlite3';

/** One summary as kept for feedback and training: the exact prompt and what the model wrote. */
export interface StoredSummary {
  /** The anomaly (`<trace id>-<span id>`) the summary span hangs under. */
  readonly id: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Every anomaly of the trace the summary covers (feedback on any of them reaches it). */
  readonly anomalyIds: readonly string[];
  readonly createdAt: number;
  readonly provider: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly prompt: string;
  /** What the model answered, unchanged (the built-in summarizer's text for `builtin`). */
  readonly completion: string;
  /** What was published (the completion, tidied). */
  readonly summary: string;
  readonly severity: number;
  readonly originService: string;
  readonly originOperation: string;
  /** Why the built-in summary replaced the model's (`timeout`, `circuit_open`, ...), if it did. */
  readonly fallbackReason: string | null;
  readonly rating: number | null;
  readonly correction: string | null;
  readonly ratedAt: number | null;
}

export interface Feedback {
  readonly rating: number;
  readonly correction: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS summaries (
  id TEXT PRIMARY KEY,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  system_prompt TEXT NOT NULL,
  prompt TEXT NOT NULL,
  completion TEXT NOT NULL,
  summary TEXT NOT NULL,
  severity INTEGER NOT NULL,
  origin_service TEXT NOT NULL,
  origin_operation TEXT NOT NULL,
  fallback_reason TEXT,
  rating INTEGER,
  correction TEXT,
  rated_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS summaries_by_created ON summaries (created_at);
CREATE TABLE IF NOT EXISTS summary_anomalies (
  anomaly_id TEXT PRIMARY KEY,
  summary_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS summary_anomalies_by_summary ON summary_anomalies (summary_id);
`;

interface Row {
  id: string;
  trace_id: string;
  span_id: string;
  created_at: number;
  provider: string;
  model: string;
  system_prompt: string;
  prompt: string;
  completion: string;
  summary: string;
  severity: number;
  origin_service: string;
  origin_operation: string;
  fallback_reason: string | null;
  rating: number | null;
  correction: string | null;
  rated_at: number | null;
  anomaly_ids: string;
}

const SELECT = `SELECT s.*, (SELECT json_group_array(anomaly_id) FROM summary_anomalies a
  WHERE a.summary_id = s.id) AS anomaly_ids FROM summaries s`;

/**
 * The summaries of one `llm_summary` connector in their own SQLite file (WAL): what the admin API's
 * feedback endpoint rates and its training-data export reads. Unrated summaries are deleted after
 * the retention; rated ones are kept (they are the training data).
 */
export class SummaryStore {
  private readonly db: Database.Database;
  private readonly insertSummary;
  private readonly insertLink;
  private readonly byAnomaly;
  private readonly rateStmt;
  private readonly retentionStmt;
  private readonly ratedPage;

  constructor(path: string) {
    const file = resolve(path);
    makeDirsSync(dirname(file));
    const db = new Database(file, { timeout: 5000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.insertSummary = db.prepare(
      `INSERT OR REPLACE INTO summaries (id, trace_id, span_id, created_at, provider, model,
         system_prompt, prompt, completion, summary, severity, origin_service, origin_operation,
         fallback_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertLink = db.prepare(
      'INSERT OR REPLACE INTO summary_anomalies (anomaly_id, summary_id) VALUES (?, ?)',
    );
    this.byAnomaly = db.prepare<[string], Row>(
      `${SELECT} WHERE s.id = (SELECT summary_id FROM summary_anomalies WHERE anomaly_id = ?)`,
    );
    this.rateStmt = db.prepare(
      'UPDATE summaries SET rating = ?, correction = ?, rated_at = ? WHERE id = ?',
    );
    this.ratedPage = db.prepare<[number, number, string, number], Row>(
      `${SELECT} WHERE s.rating IS NOT NULL AND (s.rated_at > ? OR (s.rated_at = ? AND s.id > ?))
       ORDER BY s.rated_at, s.id LIMIT ?`,
    );
    this.retentionStmt = db.prepare(
      'DELETE FROM summaries WHERE rating IS NULL AND created_at < ?',
    );
  }

  /** Stores summaries in one transaction. */
  insert(list: readonly StoredSummary[]): void {
    this.db.transaction(() => {
      for (const s of list) {
        this.insertSummary.run(
          s.id,
          s.traceId,
          s.spanId,
          s.createdAt,
          s.provider,
          s.model,
          s.systemPrompt,
          s.prompt,
          s.completion,
          s.summary,
          s.severity,
          s.originService,
          s.originOperation,
          s.fallbackReason,
        );
        for (const a of s.anomalyIds) this.insertLink.run(a, s.id);
      }
    })();
  }

  /** The summary covering an anomaly, if there is one. */
  find(anomalyId: string): StoredSummary | undefined {
    const row = this.byAnomaly.get(anomalyId);
    return row ? fromRow(row) : undefined;
  }

  /** Records a rating (and correction) of the summary covering an anomaly; the latest wins. */
  rate(anomalyId: string, feedback: Feedback, now: number): StoredSummary | undefined {
    const s = this.find(anomalyId);
    if (!s) return undefined;
    this.rateStmt.run(feedback.rating, feedback.correction, now, s.id);
    return this.find(anomalyId);
  }

  /**
   * Rated summaries rated at or after `sinceMs`, oldest rating first (the training data), read a
   * page at a time so that no statement stays open between pages (the connection stays usable).
   */
  *rated(sinceMs: number | undefined, pageSize = 500): IterableIterator<StoredSummary> {
    let after = { ratedAt: (sinceMs ?? 0) - 1, id: '\uffff' };
    for (;;) {
      const page = this.ratedPage.all(after.ratedAt, after.ratedAt, after.id, pageSize);
      for (const row of page) yield fromRow(row);
      if (page.length < pageSize) return;
      const last = page[page.length - 1]!;
      after = { ratedAt: last.rated_at!, id: last.id };
    }
  }

  /** Retention: deletes unrated summaries made before `ms` (and their links). */
  deleteUnratedBefore(ms: number): number {
    return this.db.transaction(() => {
      const n = this.retentionStmt.run(ms).changes;
      this.db.exec(
        'DELETE FROM summary_anomalies WHERE summary_id NOT IN (SELECT id FROM summaries)',
      );
      return n;
    })();
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): StoredSummary {
  return {
    id: r.id,
    traceId: r.trace_id,
    spanId: r.span_id,
    anomalyIds: (JSON.parse(r.anomaly_ids) as string[]).sort(),
    createdAt: r.created_at,
    provider: r.provider,
    model: r.model,
    systemPrompt: r.system_prompt,
    prompt: r.prompt,
    completion: r.completion,
    summary: r.summary,
    severity: r.severity,
    originService: r.origin_service,
    originOperation: r.origin_operation,
    fallbackReason: r.fallback_reason,
    rating: r.rating,
    correction: r.correction,
    ratedAt: r.rated_at,
  };
}
