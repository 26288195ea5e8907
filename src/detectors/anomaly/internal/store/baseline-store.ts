import type Database from 'better-sqlite3';
import { merge, type Moments } from '../moments.js';
import { Sketch } from '../sketch.js';
import type { SlotThresholds, ThresholdSource } from '../thresholds.js';
import { DELETE_ORPHAN_LEVELS } from './level-store.js';
import { RATE_ACTIVE } from './rate-store.js';
import type { KeyRow, MomentRow, SketchRow, ThresholdStore } from './threshold-store.js';

/** A row of the thresholds table (the same columns in SQLite and PostgreSQL). */
export interface ThresholdRow {
  key_id: number;
  slot: number;
  samples: number;
  mean: number;
  stddev: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  z5: number | null;
  z4: number | null;
  z3: number | null;
  z2: number | null;
  z1: number | null;
  source: ThresholdSource;
  computed_at: number;
}

/**
 * The baseline tables: keys, daily statistics rows (one per key, local day and hour: count, mean,
 * M2 and a quantile sketch) and the thresholds the last recalculation learned. Writers run inside
 * `transaction`, so a flush is one atomic commit; the window is a merge of daily rows and
 * retention is a DELETE of old days.
 */
export class BaselineStore implements ThresholdStore {
  private readonly s;

  constructor(readonly db: Database.Database) {
    this.s = {
      keys: db.prepare<[], KeyRow>('SELECT id, service, operation, kind FROM keys ORDER BY id'),
      insertKey: db.prepare(
        'INSERT OR IGNORE INTO keys (service, operation, kind) VALUES (?, ?, ?)',
      ),
      keyId: db.prepare<[string, string, number], { id: number }>(
        'SELECT id FROM keys WHERE service = ? AND operation = ? AND kind = ?',
      ),
      row: db.prepare<[number, number, number], SketchRow>(
        'SELECT * FROM daily_stats WHERE key_id = ? AND day = ? AND hour = ?',
      ),
      upsert: db.prepare(
        'INSERT OR REPLACE INTO daily_stats (key_id, day, hour, count, mean, m2, sketch) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      moments: db.prepare<[number], MomentRow>(
        'SELECT key_id, day, hour, count, mean, m2 FROM daily_stats WHERE day >= ?',
      ),
      keyMoments: db.prepare<[number, number], MomentRow>(
        'SELECT key_id, day, hour, count, mean, m2 FROM daily_stats WHERE key_id = ? AND day >= ?',
      ),
      keyRows: db.prepare<[number, number], SketchRow>(
        'SELECT * FROM daily_stats WHERE key_id = ? AND day >= ?',
      ),
      deleteDays: db.prepare('DELETE FROM daily_stats WHERE day < ?'),
      // A key whose every span failed has rate rows only (rate-store.ts): it is not an orphan.
      deleteOrphans: db.prepare(
        `DELETE FROM keys WHERE id NOT IN (SELECT DISTINCT key_id FROM daily_stats)
         AND id NOT IN (${RATE_ACTIVE})`,
      ),
      deleteOrphanThresholds: db.prepare(
        'DELETE FROM thresholds WHERE key_id NOT IN (SELECT id FROM keys)',
      ),
      deleteKeyRows: db.prepare('DELETE FROM daily_stats WHERE key_id = ?'),
      deleteKey: db.prepare('DELETE FROM keys WHERE id = ?'),
      idleKeys: db.prepare<[number, number, number, number], { key_id: number }>(
        `SELECT key_id FROM daily_stats WHERE day >= ? GROUP BY key_id
         HAVING SUM(count) < ? AND MAX(day) < ? AND key_id NOT IN (${RATE_ACTIVE})`,
      ),
      thresholds: db.prepare<[], ThresholdRow>('SELECT * FROM thresholds'),
      keyThresholds: db.prepare<[number], ThresholdRow>(
        'SELECT * FROM thresholds WHERE key_id = ? ORDER BY slot',
      ),
      deleteKeyThresholds: db.prepare('DELETE FROM thresholds WHERE key_id = ?'),
      deleteKeyLevel: db.prepare('DELETE FROM levels WHERE key_id = ?'),
      deleteOrphanLevels: db.prepare(DELETE_ORPHAN_LEVELS),
      insertThreshold: db.prepare(
        `INSERT INTO thresholds (key_id, slot, samples, mean, stddev, p50, p95, p99, z5, z4, z3, z2, z1, source, computed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)'),
      bump: db.prepare(
        `INSERT INTO meta (name, value) VALUES (?, '1')
         ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1`,
      ),
    };
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE: the write lock is taken up front). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  keys(): KeyRow[] {
    return this.s.keys.all();
  }

  ensureKey(service: string, operation: string, kind: number): number {
    this.s.insertKey.run(service, operation, kind);
    return this.s.keyId.get(service, operation, kind)!.id;
  }

  /** Merges moments and a sketch into the row of (key, day, hour) (Chan + sketch merge). */
  mergeRow(keyId: number, dayHour: number, m: Moments, sketch: Sketch): void {
    const day = Math.floor(dayHour / 24);
    const hour = dayHour - day * 24;
    const old = this.s.row.get(keyId, day, hour);
    let total: Moments = { count: m.count, mean: m.mean, m2: m.m2 };
    let blob: Uint8Array;
    if (old) {
      total = merge({ count: old.count, mean: old.mean, m2: old.m2 }, m);
      const s = Sketch.decode(old.sketch);
      s.merge(sketch);
      blob = s.encode();
    } else {
      blob = sketch.encode();
    }
    this.s.upsert.run(keyId, day, hour, total.count, total.mean, total.m2, blob);
  }

  /** Moments of every daily row from local day `sinceDay` on, or of one key's. */
  momentRows(sinceDay: number, keyId?: number): Iterable<MomentRow> {
    return keyId === undefined
      ? this.s.moments.iterate(sinceDay)
      : this.s.keyMoments.iterate(keyId, sinceDay);
  }

  /** One key's daily rows with their sketches, from local day `sinceDay` on. */
  keyRows(keyId: number, sinceDay: number): SketchRow[] {
    return this.s.keyRows.all(keyId, sinceDay);
  }

  /**
   * Retention: drops rows older than `day`, then keys with no row left, their thresholds and
   * levels.
   */
  deleteBefore(day: number): { rows: number; keys: number } {
    return this.transaction(() => {
      const rows = this.s.deleteDays.run(day).changes;
      const keys = this.s.deleteOrphans.run(day).changes;
      if (keys > 0) {
        this.s.deleteOrphanThresholds.run();
        this.s.deleteOrphanLevels.run();
      }
      return { rows, keys };
    });
  }

  /** Deletes keys with their daily rows, thresholds and levels (call inside `transaction`). */
  deleteKeys(ids: readonly number[]): void {
    for (const id of ids) {
      this.s.deleteKeyRows.run(id);
      this.s.deleteKeyThresholds.run(id);
      this.s.deleteKeyLevel.run(id);
      this.s.deleteKey.run(id);
    }
  }

  /**
   * Keys with fewer than `minSamples` spans in the window from `sinceDay` (no baseline) and none
   * from local day `beforeDay` on, failing ones included (rate rows): the junk of names with ids
   * in them, or operations gone.
   */
  idleKeys(sinceDay: number, minSamples: number, beforeDay: number): number[] {
    return this.s.idleKeys.all(sinceDay, minSamples, beforeDay, beforeDay).map((r) => r.key_id);
  }

  thresholds(keyId?: number): Map<number, SlotThresholds[]> {
    return thresholdsOf(
      keyId === undefined ? this.s.thresholds.all() : this.s.keyThresholds.all(keyId),
    );
  }

  /** Replaces one key's thresholds (call inside `transaction`). */
  replaceThresholds(keyId: number, slots: readonly SlotThresholds[]): void {
    this.s.deleteKeyThresholds.run(keyId);
    const nullable = (v: number) => (Number.isFinite(v) ? v : null);
    for (const t of slots) {
      const z = t.z ?? [null, null, null, null, null];
      this.s.insertThreshold.run(
        keyId,
        t.slot,
        t.samples,
        t.mean,
        t.stddev,
        nullable(t.p50),
        nullable(t.p95),
        nullable(t.p99),
        ...z,
        t.source,
        t.computedAt,
      );
    }
  }

  /** Replaces one key's thresholds in a transaction of its own (`ThresholdStore`). */
  saveThresholds(keyId: number, slots: readonly SlotThresholds[]): void {
    this.transaction(() => this.replaceThresholds(keyId, slots));
  }

  getMeta(name: string): string | undefined {
    return this.s.getMeta.get(name)?.value;
  }

  setMeta(name: string, value: string): void {
    this.s.setMeta.run(name, value);
  }

  /** A counter other processes bump when they change baselines or thresholds under us. */
  generation(name: 'baselines' | 'thresholds'): number {
    return Number(this.getMeta(`${name}_generation`) ?? 0);
  }

  /** Increments a generation atomically (other processes may bump it too). */
  bumpGeneration(name: 'baselines' | 'thresholds'): number {
    this.s.bump.run(`${name}_generation`);
    return this.generation(name);
  }
}

/** Threshold rows grouped by key, each key's in the order of the rows. */
export function thresholdsOf(rows: readonly ThresholdRow[]): Map<number, SlotThresholds[]> {
  const out = new Map<number, SlotThresholds[]>();
  for (const r of rows) {
    let list = out.get(r.key_id);
    if (!list) out.set(r.key_id, (list = []));
    list.push({
      slot: r.slot,
      samples: r.samples,
      mean: r.mean,
      stddev: r.stddev,
      p50: r.p50 ?? Number.NaN,
      p95: r.p95 ?? Number.NaN,
      p99: r.p99 ?? Number.NaN,
      z: r.z5 === null ? null : [r.z5, r.z4!, r.z3!, r.z2!, r.z1!],
      source: r.source,
      computedAt: r.computed_at,
    });
  }
  return out;
}
