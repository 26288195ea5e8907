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

/** The error and traffic detectors' columns (schema version 3), in `rowValues`' order. */
const DETECTOR_COLUMNS: readonly { name: string; type: string }[] = [
  { name: 'error_rate', type: 'float8' },
  { name: 'baseline_error_rate', type: 'float8' },
  { name: 'error_type', type: 'text' },
  { name: 'observed_rate', type: 'float8' },
  { name: 'expected_rate', type: 'float8' },
  { name: 'window_end_ms', type: 'float8' },
];
const INSTANCE = { name: 'instance', type: 'text' };
/** The place in the order published (schema version 8), last of `rowValues`. */
const SEQ = { name: 'seq', type: 'bigint' };

/**
 * The columns an instance of schema `version` writes (version 2 added `instance`, version 3 the
 * error and traffic detectors' columns, version 8 `seq`).
 */
export function anomalyColumns(version: number): readonly { name: string; type: string }[] {
  if (version >= 8) return [...COLUMNS, INSTANCE, ...DETECTOR_COLUMNS, SEQ];
  if (version >= 3) return [...COLUMNS, INSTANCE, ...DETECTOR_COLUMNS];
  return version >= 2 ? [...COLUMNS, INSTANCE] : COLUMNS;
}

/** One record's values in the order of `anomalyColumns(8)`; older versions take a prefix. */
export function anomalyRow(r: AnomalyRecord, instance: string): unknown[] {
  const values = rowValues(r);
  return [...values.slice(0, COLUMNS.length), instance, ...values.slice(COLUMNS.length)];
}

/**
 * The conditions (numbered `$1`..) and arguments of `first`, then of a history query's filters
 * that are set.
 */
function filterWhere(
  q: Omit<AnomalyQuery, 'limit'>,
  first: readonly (readonly [string, string, string | number])[] = [],
): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  for (const [column, op, value] of [
    ...first,
    ['service', '=', q.service],
    ['operation', '=', q.operation],
    ['severity', '<=', q.minSeverity],
    ['start_ms', '>=', q.sinceMs],
  ] as const) {
    if (value === undefined) continue;
    args.push(value);
    where.push(`${column} ${op} $${args.length}`);
  }
  return { where, args };
}

/** The history's query (newest first by span start), as the SQLite store runs it. */
export function historyQuery(q: AnomalyQuery, version: number): { sql: string; args: unknown[] } {
  const { where, args } = filterWhere(q);
  args.push(q.limit);
  const detectorCols = version >= 3 ? DETECTOR_COLUMNS.map((c) => c.name) : [];
  const nulls = version >= 3 ? [] : DETECTOR_COLUMNS.map((c) => `NULL AS ${c.name}`);
  const cols = [...COLUMNS.map((c) => c.name), ...detectorCols, ...nulls].join(', ');
  return {
    sql: `SELECT ${cols} FROM hg_anomalies ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY start_ms DESC LIMIT $${args.length}`,
    args,
  };
}

/**
 * Schema 8: the anomalies `instance` published after `seq` that match `q`, in the order published,
 * at most `limit` (what an event stream of that instance missed).
 */
export function afterQuery(
  instance: string,
  seq: number,
  q: Omit<AnomalyQuery, 'limit' | 'sinceMs'>,
  limit: number,
): { sql: string; args: unknown[] } {
  const { where, args } = filterWhere(q, [
    ['instance', '=', instance],
    ['seq', '>', seq],
  ]);
  args.push(limit);
  const cols = [...COLUMNS, ...DETECTOR_COLUMNS, SEQ].map((c) => c.name).join(', ');
  return {
    sql: `SELECT ${cols} FROM hg_anomalies WHERE ${where.join(' AND ')}
      ORDER BY seq LIMIT $${args.length}`,
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
