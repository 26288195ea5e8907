import type Database from 'better-sqlite3';
import type { LevelRow, StoredLevel } from '../level-saves.js';

/** The table of the keys' levels (schema version 4, open-database.ts). */
export const LEVEL_SCHEMA = `
CREATE TABLE IF NOT EXISTS levels (
  key_id INTEGER PRIMARY KEY,
  saved_at INTEGER NOT NULL,
  state BLOB NOT NULL
);
`;

/** Deletes the levels of keys that are gone (after any deletion of keys). */
export const DELETE_ORPHAN_LEVELS = 'DELETE FROM levels WHERE key_id NOT IN (SELECT id FROM keys)';

/**
 * Each key's level (level.ts: its histogram, counts, thresholds and live state), one row a key,
 * replaced by the flushes (level-saves.ts) and read at start: a restart keeps the slow-operation
 * detection. Rows go with their keys (baseline-store.ts, trim-store.ts).
 */
export class LevelStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      upsert: db.prepare(
        'INSERT OR REPLACE INTO levels (key_id, saved_at, state) VALUES (?, ?, ?)',
      ),
      all: db.prepare<[], StoredLevel>('SELECT key_id, saved_at, state FROM levels'),
    };
  }

  /** Writes levels (call inside the flush's transaction). */
  write(rows: readonly LevelRow[]): void {
    for (const r of rows) this.s.upsert.run(r.id, r.stamp.at, r.state);
  }

  levels(): StoredLevel[] {
    return this.s.all.all();
  }
}
