import type { LevelRow, StoredLevel } from '../level-saves.js';
import type { Queryable } from './pg-changes.js';

/**
 * The keys' levels in a fleet's database (schema 7, `hg_levels`): each instance writes its own
 * (level.ts: an average over the spans one process sees, and what that average does), and reads
 * them back at start. An instance with none of its own for a key (a new name: a Deployment's pod)
 * takes up the learned part of the key's latest level written by another instance (its histogram,
 * counts and thresholds: what the level of an instance behind the same load balancer does), not
 * that instance's live state.
 */

/** An instance not seen for this long is gone: its levels go once another wrote a newer one. */
const GONE_MS = 3_600_000;

/** Writes this instance's levels (inside the flush's transaction). */
export async function writeLevels(
  db: Queryable,
  instance: string,
  rows: readonly LevelRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  await db.query(
    `INSERT INTO hg_levels (key_id, instance, saved_at, state)
     SELECT k, $2, t, s FROM unnest($1::int[], $3::bigint[], $4::bytea[]) AS u (k, t, s)
     ON CONFLICT (key_id, instance) DO UPDATE SET saved_at = EXCLUDED.saved_at, state = EXCLUDED.state`,
    [
      sorted.map((r) => r.id),
      instance,
      sorted.map((r) => r.stamp.at),
      sorted.map((r) => Buffer.from(r.state)),
    ],
  );
}

/** Per key, this instance's level, else the latest another instance wrote (`own` false). */
export async function readLevels(
  db: Queryable,
  instance: string,
): Promise<(StoredLevel & { own: boolean })[]> {
  const r = await db.query<{ key_id: number; saved_at: string; state: Buffer; own: boolean }>(
    `SELECT DISTINCT ON (key_id) key_id, saved_at, state, instance = $1 AS own FROM hg_levels
     ORDER BY key_id, instance = $1 DESC, saved_at DESC`,
    [instance],
  );
  return r.rows.map((row) => ({
    key_id: row.key_id,
    saved_at: Number(row.saved_at),
    state: row.state,
    own: row.own,
  }));
}

/**
 * Retention (in its transaction): the levels of keys deleted, and those of instances gone (not
 * seen for GONE_MS) once another instance wrote a newer one of the same key: at most one row per
 * key and live instance, plus one.
 */
export async function trimLevels(db: Queryable, now: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM hg_levels l WHERE NOT EXISTS (SELECT 1 FROM hg_keys k WHERE k.id = l.key_id)
     OR (NOT EXISTS (SELECT 1 FROM hg_instances i WHERE i.instance = l.instance AND i.seen_at >= $1)
       AND EXISTS (SELECT 1 FROM hg_levels n WHERE n.key_id = l.key_id AND n.saved_at > l.saved_at))`,
    [now - GONE_MS],
  );
  return r.rowCount ?? 0;
}
