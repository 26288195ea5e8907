import type { BaselineModel } from './baseline-model.js';
import { decodeLevel, encodeLevel } from './level-codec.js';
import { U_MEAN, type LevelStamp } from './level.js';
import { RUN_GAP_MS, SlowRun } from './slow-run.js';
import type { KeyState, TenfoldState } from './key-state.js';

/**
 * How often a key's level is written to the store while it changes (at the flush that comes
 * after; every changed one at shutdown): what a process killed at any moment loses of it.
 */
export const LEVEL_SAVE_MS = 60_000;

/**
 * A level to write: the key's id, the blob (level-codec.ts), the state it holds, and the key's 10x
 * count (`KeyState.tenfold`; undefined: not known).
 */
export interface LevelRow {
  readonly key: KeyState;
  readonly id: number;
  readonly state: Uint8Array;
  readonly stamp: LevelStamp;
  readonly tenfold: Readonly<TenfoldState> | undefined;
}

/** A level as read from the store. */
export interface StoredLevel {
  readonly key_id: number;
  readonly saved_at: number;
  readonly state: Uint8Array;
  /** False: another instance's of a fleet (pg-levels.ts): only what it learned is taken up. */
  readonly own?: boolean;
  /** The key's 10x count (SQLite only; absent or null: not known). */
  readonly tenfold?: Readonly<TenfoldState> | null;
}

/**
 * The levels to write at this flush: the keys with a database id (theirs, or one `assigned` in the
 * flush's transaction) whose level or 10x count changed since it was last written, LEVEL_SAVE_MS
 * ago or more (`all`: whatever changed, at shutdown).
 */
export function levelsDue(
  model: BaselineModel,
  now: number,
  all: boolean,
  assigned: readonly (readonly [KeyState, number])[] = [],
): LevelRow[] {
  const given = new Map(assigned);
  const out: LevelRow[] = [];
  for (const key of model.keys()) {
    const level = key.level;
    const id = key.id ?? given.get(key);
    if (id === undefined || !(level.unsaved || key.tenfoldUnsaved)) continue;
    if (!all && now - level.saved.at < LEVEL_SAVE_MS) continue;
    const state = encodeLevel(level.snapshot(), key.run?.snapshot());
    const tenfold = key.tenfold && { ...key.tenfold };
    out.push({ key, id, state, stamp: level.stamp(now), tenfold });
  }
  return out;
}

/** After the commit: what each level (and 10x count) held when it was written. */
export function levelsWritten(rows: readonly LevelRow[]): void {
  for (const r of rows) {
    r.key.level.saved = r.stamp;
    if (r.tenfold) r.key.tenfoldSaved = r.tenfold.total;
  }
}

/**
 * Takes up the stored levels (runs of slow spans, 10x counts) at start (`now`), for the keys that have observed nothing since (a
 * key that learned from memory while the store could not be read keeps what it learned); of
 * another instance's level, what it learned only, its live state starting as a new one's. A blob
 * that does not decode is skipped. Returns how many were taken up.
 */
export function resumeLevels(
  model: BaselineModel,
  stored: Iterable<StoredLevel>,
  now: number,
): number {
  let resumed = 0;
  for (const row of stored) {
    const key = model.withId(row.key_id);
    if (!key || !key.level.blank) continue;
    const own = row.own !== false;
    // Its 10x count, unless a recalculation since the start gave it one.
    if (own && row.tenfold && key.tenfold === undefined) key.restoreTenfold(row.tenfold);
    const s = decodeLevel(row.state);
    if (!s) continue;
    const learned = own ? s : { ...s, value: U_MEAN, logRatio: 0, last: 0 };
    key.level.resume(learned, row.saved_at, now);
    // A run of slow spans goes on across a restart within one of its observations' time.
    if (own && s.run && now - row.saved_at <= RUN_GAP_MS)
      (key.run ??= new SlowRun()).restore(s.run);
    resumed++;
  }
  return resumed;
}
