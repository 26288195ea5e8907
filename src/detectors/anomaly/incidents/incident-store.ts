import type Database from 'better-sqlite3';
import type { IncidentState, IncidentView } from './incident.js';
import { viewOf } from './incident-merge.js';

export interface IncidentQuery {
  readonly status?: 'open' | 'resolved' | undefined;
  readonly service?: string | undefined;
  /** Severity 1..5: this or worse. */
  readonly minSeverity?: number | undefined;
  /** Updated at or after (ms). */
  readonly sinceMs?: number | undefined;
  readonly limit: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  severity INTEGER NOT NULL,
  opened_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  resolved_at INTEGER,
  services TEXT NOT NULL,
  state TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incidents_by_updated ON incidents (updated_at);
CREATE INDEX IF NOT EXISTS incidents_by_status ON incidents (status, updated_at);
`;

/**
 * Incidents in the processor's SQLite file (the table is created on first use, beside the
 * baselines and the anomaly history): one row per incident, its state as JSON, with the columns
 * queries filter on. Bounded by `trim` (retention and a row count).
 */
export class IncidentStore {
  private readonly upsertRow: Database.Statement;
  private readonly getRow: Database.Statement;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.upsertRow = db.prepare(
      `INSERT INTO incidents (id, status, severity, opened_at, updated_at, resolved_at, services, state)
       VALUES (@id, @status, @severity, @opened_at, @updated_at, @resolved_at, @services, @state)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, severity = excluded.severity,
         updated_at = excluded.updated_at, resolved_at = excluded.resolved_at,
         services = excluded.services, state = excluded.state`,
    );
    this.getRow = db.prepare('SELECT state FROM incidents WHERE id = ?');
  }

  upsert(states: readonly IncidentState[]): void {
    for (const s of states) {
      this.upsertRow.run({
        id: s.id,
        status: s.status,
        severity: s.severity,
        opened_at: Math.round(s.openedAt),
        updated_at: Math.round(s.updatedAt),
        resolved_at: s.resolvedAt === null ? null : Math.round(s.resolvedAt),
        services: `\n${s.services.map((x) => x.service).join('\n')}\n`,
        state: JSON.stringify(s),
      });
    }
  }

  get(id: string): IncidentView | undefined {
    const row = this.getRow.get(id) as { state: string } | undefined;
    return row ? viewOf(JSON.parse(row.state) as IncidentState) : undefined;
  }

  query(q: IncidentQuery): IncidentView[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.status !== undefined) {
      where.push('status = ?');
      args.push(q.status);
    }
    if (q.minSeverity !== undefined) {
      where.push('severity <= ?');
      args.push(q.minSeverity);
    }
    if (q.sinceMs !== undefined) {
      where.push('updated_at >= ?');
      args.push(Math.floor(q.sinceMs));
    }
    if (q.service !== undefined) {
      where.push('instr(services, ?) > 0');
      args.push(`\n${q.service}\n`);
    }
    const sql = `SELECT state FROM incidents ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as { state: string }[];
    return rows.map((r) => viewOf(JSON.parse(r.state) as IncidentState));
  }

  loadOpen(): IncidentState[] {
    const rows = this.db
      .prepare("SELECT state FROM incidents WHERE status = 'open' ORDER BY opened_at")
      .all() as { state: string }[];
    return rows.map((r) => JSON.parse(r.state) as IncidentState);
  }

  /** Deletes resolved incidents older than `before`, then the oldest beyond `maxRows`. */
  trim(before: number, maxRows: number): void {
    this.db
      .prepare("DELETE FROM incidents WHERE status = 'resolved' AND updated_at < ?")
      .run(Math.floor(before));
    const { n } = this.db.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number };
    if (n <= maxRows) return;
    this.db
      .prepare(
        "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents ORDER BY status = 'open', updated_at LIMIT ?)",
      )
      .run(n - maxRows);
  }
}
