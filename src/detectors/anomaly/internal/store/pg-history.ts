import type { CountQuery } from '../anomaly-counts.js';
import type { AnomalyQuery, AnomalyRecord } from '../anomaly-record.js';
import { rowValues } from './anomaly-store.js';
export { fromRow as fromAnomalyRow, type AnomalyRow } from './anomaly-store.js';

const COLUMNS: readonly { name: string; type: string }[] = [
  { name: 'id', type: 'text' },
  { name: 'trace_id', type: 'text' },
  { name: 'span_id', type: 'text' },
  { name: 'service', type: 'text' },
  { name: 'operation', type: 'text' },
  { name: 'kind', type: 'int' },
  { name: 'start_ms', type: 'float8' },
  { name: 'duration_ms', type: 'float8' },
  { name: 'severity', type: 'int' },
  { name: 'detector', type: 'text' },
  { name: 'score', type: 'float8' },
  { name: 'ratio', type: 'float8' },
  { name: 'baseline_mean_ms', type: 'float8' },
  { name: 'baseline_stddev_ms', type: 'float8' },
  { name: 'baseline_p99_ms', type: 'float8' },
  { name: 'baseline_samples', type: 'bigint' },
  { name: 'baseline_scope', type: 'text' },
  { name: 'baseline_window', type: 'text' },
  { name: 'recorded_at', type: 'bigint' },
  { name: 'summary', type: 'text' },
  { name: 'reason', type: 'text' },
  { name: 'operation_ratio', type: 'float8' },
];

/** The columns an instance of schema `version` writes (version 2 added `instance`). */
export function anomalyColumns(version: number): readonly { name: string; type: string }[] {
  return version >= 2 ? [...COLUMNS, { name: 'instance', type: 'text' }] : COLUMNS;
}

/** One record's values in the order of `anomalyColumns` (the instance last; cut off for v1). */
export function anomalyRow(r: AnomalyRecord, instance: string): unknown[] {
  return [...rowValues(r), instance];
}

/** The history's query (newest first by span start), as the SQLite store runs it. */
export function historyQuery(q: AnomalyQuery): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const filter = (column: string, op: string, value: string | number | undefined) => {
    if (value === undefined) return;
    args.push(value);
    where.push(`${column} ${op} $${args.length}`);
  };
  filter('service', '=', q.service);
  filter('operation', '=', q.operation);
  filter('severity', '<=', q.minSeverity);
  filter('start_ms', '>=', q.sinceMs);
  args.push(q.limit);
  const cols = COLUMNS.map((c) => c.name).join(', ');
  return {
    sql: `SELECT ${cols} FROM hg_anomalies ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY start_ms DESC LIMIT $${args.length}`,
    args,
  };
}

/** Tagged spans per service, severity and step. */
export function countsQuery(q: CountQuery): { sql: string; args: unknown[] } {
  const args: unknown[] = [q.sinceMs, q.stepMs, q.untilMs];
  const where = ['start_ms >= $1', 'start_ms < $3'];
  if (q.service !== undefined) {
    args.push(q.service);
    where.push(`service = $${args.length}`);
  }
  if (q.minSeverity !== undefined) {
    args.push(q.minSeverity);
    where.push(`severity <= $${args.length}`);
  }
  return {
    sql: `SELECT service, severity, floor((start_ms - $1) / $2)::int AS step, COUNT(*)::int AS n
      FROM hg_anomalies WHERE ${where.join(' AND ')} GROUP BY service, severity, step`,
    args,
  };
}
