import type Database from 'better-sqlite3';
import type { LevelRow, StoredLevel } from '../level-saves.js';

/**
 * The table of the keys' levels (schema version 4, open-database.ts), with each key's 10x count
 * (`KeyState.tenfold`; version 5, LEVEL_ADDED_COLUMNS; null: not known).
 */
export const LEVEL_SCHEMA = `
CREATE TABLE IF NOT EXISTS levels (
  key_id INTEGER PRIMARY KEY,
  saved_at INTEGER NOT NULL,
  state BLOB NOT NULL,
  tenfold_beyond REAL,
  tenfold_total REAL,
  tenfold_capped INTEGER
);
`;

/** Columns added to `levels` after version 4, for files an older hourglass created. */
export const LEVEL_ADDED_COLUMNS: readonly [string, string][] = [
  ['tenfold_beyond', 'REAL'],
  ['tenfold_total', 'REAL'],
  ['tenfold_capped', 'INTEGER'],
];

interface LevelTableRow {
  readonly key_id: number;
  readonly saved_at: number;
  readonly state: Uint8Array;
  readonly tenfold_beyond: number | null;
  readonly tenfold_total: number | null;
  readonly tenfold_capped: number | null;
}

/** Deletes the levels of keys that are gone (after any deletion of keys). */
export const DELETE_ORPHAN_LEVELS = 'DELETE FROM levels WHERE key_id NOT IN (SELECT id FROM keys)';

/**
 * Each key's level (level.ts: its histogram, counts, thresholds and live state) and 10x count, one
 * row a key, replaced by the flushes (level-saves.ts) and read at start: a restart keeps the
 * slow-operation detection and the 10x rule's reading. Rows go with their keys (baseline-store.ts,
 * trim-store.ts). A release of schema 4 rewrites a row without the count (null: not known).
 */
export class LevelStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      upsert: db.prepare(
        `INSERT OR REPLACE INTO levels
         (key_id, saved_at, state, tenfold_beyond, tenfold_total, tenfold_capped)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      all: db.prepare<[], LevelTableRow>(
        'SELECT key_id, saved_at, state, tenfold_beyond, tenfold_total, tenfold_capped FROM levels',
      ),
    };
  }

  /** Writes levels (call inside the flush's transaction). */
  write(rows: readonly LevelRow[]): void {
    for (const r of rows) {
      const t = r.tenfold;
      const capped = t === undefined ? null : t.capped ? 1 : 0;
      this.s.upsert.run(r.id, r.stamp.at, r.state, t?.beyond ?? null, t?.total ?? null, capped);
    }
  }

  levels(): StoredLevel[] {
    return this.s.all.all().map((r) => ({
      key_id: r.key_id,
      saved_at: r.saved_at,
      state: r.state,
      tenfold: tenfoldOf(r),
    }));
  }
}

/** A row's 10x count; null when it has none, or one that is not a count (not read). */
function tenfoldOf(r: LevelTableRow): StoredLevel['tenfold'] {
  const { tenfold_beyond: beyond, tenfold_total: total, tenfold_capped: capped } = r;
  if (beyond === null || total === null || (capped !== 0 && capped !== 1)) return null;
  if (!(Number.isFinite(total) && beyond >= 0 && beyond <= total)) return null;
  return { beyond, total, capped: capped === 1 };
}
