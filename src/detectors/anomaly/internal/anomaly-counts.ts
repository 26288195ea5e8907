import type { AnomalyRecord } from './anomaly-record.js';

/** Filters of `GET /api/v1/anomalies/counts`: tagged spans per service over time. */
export interface CountQuery {
  readonly service?: string | undefined;
  /** Keep severities at least this severe (1..5). */
  readonly minSeverity?: number | undefined;
  /** Span start times in [sinceMs, untilMs), ms since the epoch. */
  readonly sinceMs: number;
  readonly untilMs: number;
  /** Width of one step; step i holds starts in [sinceMs + i x stepMs, sinceMs + (i + 1) x stepMs). */
  readonly stepMs: number;
}

/** Tagged spans of one service, severity and step (the SQL GROUP BY's row). */
export interface CountRow {
  readonly service: string;
  readonly severity: number;
  readonly step: number;
  readonly n: number;
}

/** Tagged spans of one service: per step (oldest first) and per severity (index 1..5). */
export interface ServiceCounts {
  readonly service: string;
  readonly steps: number[];
  readonly bySeverity: number[];
  total: number;
}

export function stepsOf(q: CountQuery): number {
  return Math.max(1, Math.ceil((q.untilMs - q.sinceMs) / q.stepMs));
}

/** The counting the SQL query does, for records not written yet. */
export function countRows(records: Iterable<AnomalyRecord>, q: CountQuery): CountRow[] {
  const rows = new Map<string, { service: string; severity: number; step: number; n: number }>();
  for (const r of records) {
    if (r.startMs < q.sinceMs || r.startMs >= q.untilMs) continue;
    if (q.service !== undefined && r.service !== q.service) continue;
    if (q.minSeverity !== undefined && r.severity > q.minSeverity) continue;
    const step = Math.floor((r.startMs - q.sinceMs) / q.stepMs);
    const id = `${r.severity}\u0000${step}\u0000${r.service}`;
    const row = rows.get(id);
    if (row) row.n++;
    else rows.set(id, { service: r.service, severity: r.severity, step, n: 1 });
  }
  return [...rows.values()];
}

/** Rows (stored and unwritten alike) summed per service, by name. */
export function sumRows(rows: Iterable<CountRow>, q: CountQuery): ServiceCounts[] {
  const steps = stepsOf(q);
  const out = new Map<string, ServiceCounts>();
  for (const r of rows) {
    if (r.step < 0 || r.step >= steps || r.severity < 1 || r.severity > 5) continue;
    let s = out.get(r.service);
    if (!s) {
      s = {
        service: r.service,
        steps: new Array<number>(steps).fill(0),
        bySeverity: [0, 0, 0, 0, 0, 0],
        total: 0,
      };
      out.set(r.service, s);
    }
    s.steps[r.step]! += r.n;
    s.bySeverity[r.severity]! += r.n;
    s.total += r.n;
  }
  return [...out.values()].sort((a, b) => a.service.localeCompare(b.service));
}
