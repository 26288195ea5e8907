import type pg from 'pg';
import type { MomentRow } from './threshold-store.js';
import type { RateRow } from './rate-store.js';

export type { RateRow } from './rate-store.js';

/**
 * The change log of a fleet's daily rows (`hg_changes`, schema 4): each flush writes what it
 * learned, per (key, day, hour), beside merging it into its own `hg_daily` rows, in the same
 * transaction. Another instance reads only the log's rows committed since the snapshot it last read
 * at (visible in its new snapshot and not in the old one: each change is read exactly once) and
 * merges them into its window, so what a flush reads grows with what changed, not with the window
 * times the fleet. Rows every live reader has read are pruned; a reader that fell behind the pruning
 * (or lost its place) reads the whole window again.
 */

/** What a statement can be run on: the pool or one connection (a snapshot's transaction). */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** How long an instance that reads no more still holds the log's rows for itself. */
const READER_TTL = '1 hour';

export interface LogSnapshot {
  /** `pg_current_snapshot()` as text (`xmin:xmax:xip,...`). */
  readonly text: string;
  /** Log rows below this transaction id were pruned (none: '0'). */
  readonly prunedBelow: string;
}

/** The snapshot of the running (REPEATABLE READ) transaction and how far the log was pruned. */
export async function logSnapshot(db: Queryable): Promise<LogSnapshot> {
  const r = await db.query<{ snap: string; pruned: string | null }>(
    `SELECT pg_current_snapshot()::text AS snap,
       (SELECT value FROM hg_meta WHERE name = 'changes_pruned_below') AS pruned`,
  );
  return { text: r.rows[0]!.snap, prunedBelow: r.rows[0]!.pruned ?? '0' };
}

/** The xmin of a snapshot's text. */
export function snapshotXmin(snapshot: string): bigint {
  return BigInt(snapshot.slice(0, snapshot.indexOf(':')));
}

/** Whether the log still holds every change committed after `since` (a snapshot's text). */
export function logCovers(since: string, now: LogSnapshot): boolean {
  return BigInt(now.prunedBelow) <= snapshotXmin(since);
}

/**
 * Other instances' changes committed after `since` and before the running transaction's snapshot,
 * each once: `changes`, the logged learning (days from `sinceDay`); `unlogged`, keys whose daily
 * rows an instance of an older schema changed without a log row (read again whole).
 */
export async function changesSince(
  db: Queryable,
  since: string,
  instance: string,
  sinceDay: number,
  withRates: boolean,
): Promise<LogChanges> {
  const changes = await db.query<MomentRow>(
    `SELECT key_id, day, hour, count, mean, m2 FROM hg_changes
     WHERE xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)
       AND instance <> $2 AND day >= $3`,
    [since, instance, sinceDay],
  );
  const unlogged = await db.query<{ key_id: number }>(
    `SELECT DISTINCT d.key_id FROM hg_daily d
     WHERE d.xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(d.xid, $1::pg_snapshot)
       AND d.instance <> $2
       AND NOT EXISTS (SELECT 1 FROM hg_changes c WHERE c.xid = d.xid AND c.instance = d.instance)`,
    [since, instance],
  );
  const rates = withRates
    ? await db.query<RateRow>(
        `SELECT key_id, day, hour, minutes, spans, sum_sq, err_spans, errors FROM hg_rate_changes
         WHERE xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)
           AND instance <> $2 AND day >= $3`,
        [since, instance, sinceDay],
      )
    : { rows: [] };
  return {
    changes: changes.rows,
    rates: rates.rows,
    unlogged: unlogged.rows.map((r) => r.key_id),
  };
}

/** Other instances' changes since a snapshot (`changesSince`). */
export interface LogChanges {
  readonly changes: MomentRow[];
  /** Of the error and traffic baselines (schema 5). */
  readonly rates: RateRow[];
  readonly unlogged: number[];
}

/** The columns of a rate row, in the order of `R_MINUTES` .. `R_ERRORS` (rates/rate-state.ts). */
export const RATE_COLUMNS = ['minutes', 'spans', 'sum_sq', 'err_spans', 'errors'] as const;

/** Appends a flush's error and traffic learning (summed per key, day and hour) to the log. */
export async function logRates(
  db: Queryable,
  instance: string,
  rows: readonly { id: number; day: number; hour: number; v: ArrayLike<number> }[],
): Promise<void> {
  await db.query(
    `INSERT INTO hg_rate_changes (instance, key_id, day, hour, ${RATE_COLUMNS.join(', ')})
     SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::float8[], $6::float8[],
       $7::float8[], $8::float8[], $9::float8[])`,
    [instance, ...rateColumns(rows)],
  );
}

/** Key ids, days, hours and the five sums of `rows`, as arrays for unnest. */
export function rateColumns(
  rows: readonly { id: number; day: number; hour: number; v: ArrayLike<number> }[],
): unknown[] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.day),
    rows.map((r) => r.hour),
    ...RATE_COLUMNS.map((_c, k) => rows.map((r) => r.v[k]!)),
  ];
}

/** Appends a flush's learning (merged per key, day and hour) to the log, in its transaction. */
export async function logChanges(
  db: Queryable,
  instance: string,
  rows: readonly {
    id: number;
    day: number;
    hour: number;
    m: { count: number; mean: number; m2: number };
  }[],
): Promise<void> {
  await db.query(
    `INSERT INTO hg_changes (instance, key_id, day, hour, count, mean, m2)
     SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::bigint[], $6::float8[], $7::float8[])`,
    [
      instance,
      rows.map((r) => r.id),
      rows.map((r) => r.day),
      rows.map((r) => r.hour),
      rows.map((r) => r.m.count),
      rows.map((r) => r.m.mean),
      rows.map((r) => r.m.m2),
    ],
  );
}

/**
 * Records how far this instance has read (`xmin`: of the snapshot it read at; undefined: of now,
 * when it registers, before its first snapshot), then prunes the log below the oldest place of the
 * instances that read in the last hour. Run in a transaction; returns the rows pruned.
 */
export async function acknowledge(
  db: Queryable,
  instance: string,
  xmin: bigint | undefined,
  withRates: boolean,
): Promise<number> {
  await db.query(
    `UPDATE hg_instances SET read_xid = COALESCE($2::xid8, pg_snapshot_xmin(pg_current_snapshot())),
       read_at = now() WHERE instance = $1`,
    [instance, xmin === undefined ? null : xmin.toString()],
  );
  const floor = await db.query<{ x: string | null }>(
    `SELECT min(read_xid)::text AS x FROM hg_instances
     WHERE read_xid IS NOT NULL AND read_at > now() - interval '${READER_TTL}'`,
  );
  const below = floor.rows[0]?.x;
  if (!below) return 0;
  let pruned =
    (await db.query('DELETE FROM hg_changes WHERE xid < $1::xid8', [below])).rowCount ?? 0;
  if (withRates) {
    pruned +=
      (await db.query('DELETE FROM hg_rate_changes WHERE xid < $1::xid8', [below])).rowCount ?? 0;
  }
  if (pruned > 0) {
    await db.query(
      `INSERT INTO hg_meta (name, value) VALUES ('changes_pruned_below', $1)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value
       WHERE hg_meta.value::xid8 < EXCLUDED.value::xid8`,
      [below],
    );
  }
  return pruned;
}
