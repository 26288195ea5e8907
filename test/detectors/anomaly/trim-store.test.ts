import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock.js';
import { standaloneDetector } from '../helpers/detector.js';
import { traceRequest } from '../helpers/traces.js';
import { TimeBuckets } from '../../../src/detectors/anomaly/internal/time-buckets.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;
const MIB = 1 << 20;

/** The anomalies table as hourglass before `anomaly.reason` wrote it (schema version 1). */
const V1_ANOMALIES = `CREATE TABLE anomalies (
  id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, service TEXT NOT NULL,
  operation TEXT NOT NULL, kind INTEGER NOT NULL, start_ms REAL NOT NULL, duration_ms REAL NOT NULL,
  severity INTEGER NOT NULL, detector TEXT NOT NULL, score REAL NOT NULL, ratio REAL NOT NULL,
  baseline_mean_ms REAL NOT NULL, baseline_stddev_ms REAL NOT NULL, baseline_p99_ms REAL NOT NULL,
  baseline_samples INTEGER NOT NULL, baseline_scope TEXT NOT NULL, baseline_window TEXT NOT NULL,
  recorded_at INTEGER NOT NULL, summary TEXT) WITHOUT ROWID;`;

describe('a database beyond the bounds at start', () => {
  let dir: string;
  let file: string;
  const clock = new FakeClock(MONDAY + 12 * H);
  const today = new TimeBuckets('UTC').day(MONDAY);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-trim-'));
    file = join(dir, 'hg.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What the previous version left after 1 MiB span names: keys, rows and anomalies with them. */
  function writeOldDatabase(longKeys: number, shortKeys: number): void {
    const db = new Database(file);
    db.exec(V1_ANOMALIES);
    db.exec(`CREATE TABLE keys (id INTEGER PRIMARY KEY, service TEXT NOT NULL, operation TEXT NOT NULL,
      kind INTEGER NOT NULL, UNIQUE (service, operation, kind))`);
    db.exec(`CREATE TABLE daily_stats (key_id INTEGER NOT NULL, day INTEGER NOT NULL, hour INTEGER NOT NULL,
      count INTEGER NOT NULL, mean REAL NOT NULL, m2 REAL NOT NULL, sketch BLOB NOT NULL,
      PRIMARY KEY (key_id, day, hour)) WITHOUT ROWID`);
    db.pragma('user_version = 1');
    const key = db.prepare('INSERT INTO keys (service, operation, kind) VALUES (?, ?, 2)');
    const row = db.prepare("INSERT INTO daily_stats VALUES (?, ?, 9, ?, 100, 10, x'')");
    const anomaly = db.prepare(
      `INSERT INTO anomalies VALUES (?, 't', 's', 'checkout', ?, 2, 0, 900, 1, 'latency', 9, 9,
       100, 10, 120, 40, 'dow_hour', 'Mon 09:00-10:00 UTC', ?, NULL)`,
    );
    db.transaction(() => {
      for (let i = 0; i < longKeys; i++) {
        // Names that differ only beyond 256 bytes: cut, all but one would be the same key.
        const name = `GET /${'x'.repeat(MIB)}${i}`;
        const id = Number(key.run('checkout', name).lastInsertRowid);
        row.run(id, today, 1);
        anomaly.run(`a${i}`, name, MONDAY);
      }
      for (let i = 0; i < shortKeys; i++) {
        const id = Number(key.run('checkout', `GET /op-${i}`).lastInsertRowid);
        row.run(id, today, 10 + i);
      }
    })();
    db.close();
  }

  it('cuts names of any length, drops keys beyond max_keys, compacts the file and starts', async () => {
    writeOldDatabase(40, 30);
    expect(statSync(file).size).toBeGreaterThan(40 * MIB);
    const d = await standaloneDetector(file, { max_keys: 25 }, clock);
    const keys = d.keys({});
    expect(keys.length).toBeLessThanOrEqual(25);
    for (const k of keys) expect(Buffer.byteLength(k.operation)).toBeLessThanOrEqual(259);
    // The keys with the most spans were kept; the cut long names collapsed into one key.
    expect(keys.map((k) => k.operation)).toContain('GET /op-29');
    expect(keys.map((k) => k.operation)).not.toContain('GET /op-0');
    const history = d.history({ limit: 100 });
    expect(history).toHaveLength(40);
    for (const a of history) {
      expect(Buffer.byteLength(a.operation)).toBeLessThanOrEqual(259);
      expect(a.reason).toBe('slow_span');
    }
    // The operation asked for in full is found by its cut name.
    expect(d.history({ operation: `GET /${'x'.repeat(MIB)}0`, limit: 100 })).toHaveLength(40);
    // Traffic is scored and learned as usual after it.
    const spans = Array.from({ length: 5 }, (_, i) => ({
      name: `GET /${'x'.repeat(MIB)}`,
      startMs: MONDAY + 9 * H + i,
      durationMs: 100,
    }));
    d.accept(d.score(traceRequest(spans)));
    await d.shutdown();
    expect(statSync(file).size).toBeLessThan(2 * MIB);
  });

  it('keeps a key of a long name under its cut name, merged with none other than one', async () => {
    writeOldDatabase(3, 5);
    const d = await standaloneDetector(file, { max_keys: 25 }, clock);
    const ops = d.keys({}).map((k) => k.operation);
    expect(ops).toHaveLength(6);
    const cut = ops.filter((o) => o.endsWith('…'));
    expect(cut).toEqual([`GET /${'x'.repeat(251)}…`]);
    // Spans of that name are scored against it: the same key, cut the same way.
    const spans = [{ name: `GET /${'x'.repeat(MIB)}`, startMs: MONDAY + 9 * H, durationMs: 100 }];
    d.accept(d.score(traceRequest(spans)));
    expect(d.keys({})).toHaveLength(6);
    await d.shutdown();
  });

  it('leaves a database within bounds as it is', async () => {
    writeOldDatabase(0, 10);
    const d = await standaloneDetector(file, { max_keys: 25 }, clock);
    expect(d.keys({})).toHaveLength(10);
    await d.shutdown();
  });
});
