import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { decodeLevel, encodeLevel } from '../../../src/detectors/anomaly/internal/level-codec.js';
import { LEVEL_SAVE_MS } from '../../../src/detectors/anomaly/internal/level-saves.js';
import { LEVEL_ALPHA, LevelState, U_MEAN } from '../../../src/detectors/anomaly/internal/level.js';
import { SlowRun } from '../../../src/detectors/anomaly/internal/slow-run.js';
import { THR_P50, THR_P95, THR_P99 } from '../../../src/detectors/anomaly/internal/thr-layout.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { standaloneDetector } from '../helpers/detector.js';
import { Random } from '../helpers/random.js';
import { learnLevel, levelSpans, playLive } from '../helpers/level-traffic.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;
/** A level fed `n` spans of a log-normal operation, one every `everyMs`, `factor` times slower. */
function fed(n: number, everyMs: number, factor: number, r = new Random(5)): LevelState {
  const thr = new Float32Array(8);
  thr[THR_P50] = 100;
  thr[THR_P95] = 100 * Math.exp(0.3 * 1.645);
  thr[THR_P99] = 100 * Math.exp(0.3 * 2.326);
  const level = new LevelState();
  for (let i = 1; i <= n; i++) level.observe(thr, 0, factor * r.latency(100, 0.3), i * everyMs);
  return level;
}

describe('a level in the store', () => {
  it('is read back as it was written: counts, histogram, thresholds, live state', () => {
    const level = fed(8000, 100, 1);
    level.recompute([0.99, 0.995, 0.999, 0.9999, 0.99999], false);
    const s = level.snapshot();
    expect(s.thresholds).toBeDefined();
    const back = decodeLevel(encodeLevel(s))!;
    expect(back.thresholds).toEqual(s.thresholds);
    expect(back.histogram).toEqual(s.histogram);
    for (const f of [
      'value',
      'logRatio',
      'last',
      'gap',
      'samples',
      'firstCounted',
      'tick',
    ] as const) {
      expect(back[f], f).toBe(s[f]);
    }
    expect(s.gap).toBeCloseTo(100, 6);
    // Only the histogram's non-empty bins are written.
    expect(encodeLevel(s).length).toBeLessThan(1500);
    expect(decodeLevel(encodeLevel(new LevelState().snapshot()))?.histogram).toBeUndefined();
    // With the key's run of slow spans (slow-run.ts).
    const run = new SlowRun();
    run.add(0.004, 6, 1_000);
    run.add(0.002, 7, 7_000);
    const withRun = decodeLevel(encodeLevel(s, run.snapshot()))!;
    expect(withRun.run).toEqual(run.snapshot());
    expect(withRun.histogram).toEqual(s.histogram);
    expect(back.run).toBeUndefined();
  });

  it('never reads a blob of another format, cut short, or with values out of range', () => {
    const good = encodeLevel(fed(500, 100, 1).snapshot());
    expect(decodeLevel(good)).toBeDefined();
    expect(decodeLevel(good.subarray(0, good.length - 4))).toBeUndefined();
    expect(decodeLevel(new Uint8Array(0))).toBeUndefined();
    const otherFormat = Uint8Array.from(good);
    otherFormat[0] = 9;
    expect(decodeLevel(otherFormat)).toBeUndefined();
    const nan = Uint8Array.from(good);
    new DataView(nan.buffer).setFloat64(8, Number.NaN, true); // the level itself
    expect(decodeLevel(nan)).toBeUndefined();
    const run = new SlowRun();
    run.add(0.004, 6, 1_000);
    const badRun = encodeLevel(fed(500, 100, 1).snapshot(), run.snapshot());
    // The run follows the header and 7 numbers (no thresholds): its length, start, first rate.
    new DataView(badRun.buffer).setFloat64(8 + 7 * 8 + 2 * 8, 2, true); // a tail rate of 2
    expect(decodeLevel(badRun)).toBeUndefined();
    const negativeBin = Uint8Array.from(good);
    new DataView(negativeBin.buffer).setFloat32(good.length - 4, -1, true);
    expect(decodeLevel(negativeBin)).toBeUndefined();
  });

  it('ages its live state by the spans a downtime stands for', () => {
    // A slowdown under way on a busy key (a span every 100 ms) and on one called once a minute.
    for (const everyMs of [100, 60_000]) {
      const s = fed(200, everyMs, 4).snapshot();
      expect(s.value).toBeGreaterThan(2);
      const saved = s.last;
      const resumed = (downtimeMs: number) => {
        const l = new LevelState();
        l.resume(s, saved, saved + downtimeMs);
        return l.snapshot();
      };
      // Restarted at once: nothing changes.
      expect(resumed(0).value).toBe(s.value);
      // Down for a minute: the spans it missed, as if normal.
      const missed = 60_000 / s.gap;
      const after = resumed(60_000);
      expect(after.value - U_MEAN).toBeCloseTo((s.value - U_MEAN) * (1 - LEVEL_ALPHA) ** missed, 9);
      if (everyMs === 100) expect(after.value).toBeCloseTo(U_MEAN, 9);
      else expect(after.value).toBeGreaterThan(2);
      // What was learned stays whatever the downtime.
      expect(resumed(7 * 24 * H).histogram).toEqual(s.histogram);
      expect(resumed(7 * 24 * H).samples).toBe(s.samples);
      // The size forgets with time from the last span, as in a running process.
      expect(after.last).toBe(s.last);
      expect(after.logRatio).toBe(s.logRatio);
    }
  });
});

describe('a restart of the sidecar (SQLite)', () => {
  let dir: string;
  let file: string;
  const open: AnomalyDetector[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-level-store-'));
    file = join(dir, 'hg.db');
  });
  afterEach(async () => {
    for (const d of open.splice(0)) await d.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(clock: FakeClock): Promise<AnomalyDetector> {
    const d = await standaloneDetector(file, { min_samples: 20 }, clock);
    open.push(d);
    return d;
  }

  async function stop(d: AnomalyDetector): Promise<void> {
    open.splice(open.indexOf(d), 1);
    await d.shutdown();
  }

  /** A detector whose one key has baselines and level thresholds of its own. */
  async function learned(clock: FakeClock, r: Random): Promise<AnomalyDetector> {
    const d = await start(clock);
    await learnLevel(d, clock, r);
    return d;
  }

  it('keeps the level thresholds and the histogram, and tags a 3x slowdown at once', async () => {
    const clock = new FakeClock(MONDAY + 9 * H);
    const r = new Random(11);
    const before = (await learned(clock, r)).keys({})[0]!.level.snapshot();
    await stop(open[0]!);

    const d = await start(clock);
    const after = d.keys({})[0]!.level.snapshot();
    expect(after.thresholds).toEqual(before.thresholds);
    expect(after.histogram).toEqual(before.histogram);
    expect(after.samples).toBe(before.samples);
    expect(after.value).toBe(before.value);
    // Its own thresholds, where a new process would have none for 10 minutes (and nothing to
    // borrow: its service has no other key).
    const tagged = await playLive(d, clock, levelSpans(r, clock.now(), 120, 3));
    expect(tagged.filter((sev) => sev <= 3).length).toBeGreaterThanOrEqual(60);
  });

  it('ages the live state over a long downtime: a slowdown that was under way is forgotten', async () => {
    const clock = new FakeClock(MONDAY + 9 * H);
    const r = new Random(12);
    const d = await learned(clock, r);
    await playLive(d, clock, levelSpans(r, clock.now(), 80, 4));
    expect(d.keys({})[0]!.level.value).toBeGreaterThan(2);
    await stop(d);

    clock.advance(30 * 60_000);
    const again = await start(clock);
    const level = again.keys({})[0]!.level;
    expect(level.value).toBeCloseTo(U_MEAN, 6);
    expect(level.thresholds).toBeDefined();
    // As usual again: nothing tagged for the operation.
    expect(await playLive(again, clock, levelSpans(r, clock.now(), 80))).toEqual([]);
  });

  it('writes a changed level at most every LEVEL_SAVE_MS, and every changed one at shutdown', async () => {
    const clock = new FakeClock(MONDAY + 9 * H);
    const r = new Random(13);
    const d = await learned(clock, r);
    const stored = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT saved_at FROM levels').all() as { saved_at: number }[];
      } finally {
        db.close();
      }
    };
    const first = stored()[0]!.saved_at;
    // Flushes every 10 s while the level changes: written again LEVEL_SAVE_MS after, not before.
    let next = first;
    for (let i = 0; i < 8 && next === first; i++) {
      await playLive(d, clock, levelSpans(r, clock.now(), 40));
      next = stored()[0]!.saved_at;
    }
    expect(next - first).toBeGreaterThanOrEqual(LEVEL_SAVE_MS);
    expect(next - first).toBeLessThan(LEVEL_SAVE_MS + 20_000);
    await playLive(d, clock, levelSpans(r, clock.now(), 40));
    expect(stored()).toEqual([{ saved_at: next }]);
    await stop(d);
    expect(stored()).toEqual([{ saved_at: clock.now() }]);
  });

  it('keeps the 10x count with the level; a database of schema 4 (no count) takes it up', async () => {
    const clock = new FakeClock(MONDAY + 9 * H);
    const r = new Random(15);
    const d = await learned(clock, r);
    await d.idle();
    // The background refreshes of the new key counted its 10x spans; it kept counting as it learned.
    const counted = { ...d.keys({})[0]!.tenfold! };
    expect(counted.total).toBeGreaterThan(2000);
    await stop(d);
    expect((await start(clock)).keys({})[0]!.tenfold).toEqual(counted);
    await stop(open[0]!);

    // The same file as schema 4 left it: levels without the count.
    const db = new Database(file);
    db.exec(`ALTER TABLE levels RENAME TO levels_5;
      CREATE TABLE levels (key_id INTEGER PRIMARY KEY, saved_at INTEGER NOT NULL, state BLOB NOT NULL);
      INSERT INTO levels SELECT key_id, saved_at, state FROM levels_5;
      DROP TABLE levels_5;`);
    db.pragma('user_version = 4');
    db.close();
    const again = await start(clock);
    const key = again.keys({})[0]!;
    // Its level is taken up as before; the count is not known until its next recalculation.
    expect(key.level.thresholds).toBeDefined();
    expect(key.tenfold).toBeUndefined();
    expect(await playLive(again, clock, levelSpans(r, clock.now(), 120, 3))).not.toEqual([]);
    await again.recalculate();
    const recounted = key.tenfold;
    expect(recounted?.total).toBe(key.count());
    await stop(again);
    const back = (await start(clock)).keys({})[0]!;
    expect(back.tenfold).toEqual(recounted);
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(6);
    } finally {
      after.close();
    }
  });

  it('migrates a database of the previous version (no levels table)', async () => {
    const clock = new FakeClock(MONDAY + 9 * H);
    const r = new Random(14);
    await stop(await learned(clock, r));
    const db = new Database(file);
    db.exec('DROP TABLE levels');
    db.pragma('user_version = 3');
    db.close();

    const d = await start(clock);
    // Nothing stored: the key learns its level again, as before this version.
    expect(d.keys({})[0]!.level.thresholds).toBeUndefined();
    expect(d.keys({})[0]!.count()).toBeGreaterThan(0);
    await playLive(d, clock, levelSpans(r, clock.now(), 400));
    await stop(d);
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(6);
      expect(after.prepare('SELECT COUNT(*) AS n FROM levels').get()).toEqual({ n: 1 });
    } finally {
      after.close();
    }
  });
});
