import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../../src/component/consumer.js';
import { add, emptyMoments } from '../../../src/detectors/anomaly/internal/moments.js';
import { Sketch } from '../../../src/detectors/anomaly/internal/sketch.js';
import type { Sidecar } from '../../../src/main.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Capture } from '../helpers/capture-exporter.js';
import { Random } from '../helpers/random.js';
import { detectorOf, memoryLogger, startTestSidecar } from '../helpers/sidecar.js';
import { decodeSpans, traceRequest, wholeNanos, type SpanSpec } from '../helpers/traces.js';
import { meanAt } from '../../../src/detectors/anomaly/internal/moments.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;
const DAY = 24 * H;
const MONDAY_DAY = MONDAY / DAY; // local day number in UTC

interface Row {
  key_id: number;
  day: number;
  hour: number;
  count: number;
  mean: number;
  m2: number;
  sketch: Buffer;
}

function rows(file: string): Row[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT * FROM daily_stats ORDER BY day, hour').all() as Row[];
  } finally {
    db.close();
  }
}

function spansAt(startMs: number, durations: number[], name = 'GET /cart'): SpanSpec[] {
  return durations.map((d, i) => ({ name, startMs: startMs + i * 1000, durationMs: d }));
}

async function send(entry: Consumer, spans: SpanSpec[]): Promise<void> {
  await entry.consume({ signal: 'traces', bytes: traceRequest(spans), items: spans.length });
}

describe('anomaly storage (SQLite)', () => {
  let dir: string;
  let db: string;
  let capture: Capture;
  const running: Sidecar[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-store-'));
    db = join(dir, 'data', 'hg.db');
    capture = new Capture();
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    clock: FakeClock,
    settings: Record<string, unknown> = {},
    logger = memoryLogger(),
  ) {
    const sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: db, flush_interval: '10s', ...settings },
      factories: [capture.factory],
      logger: logger.logger,
    });
    running.push(sidecar);
    return { sidecar, entry: sidecar.service.pipelineEntries.get('traces')!, lines: logger.lines };
  }

  it('writes learning every flush_interval, never per span, and a restart restores it', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const { sidecar, entry } = await start(clock);
    const r = new Random(1);
    const values = Array.from({ length: 60 }, () => wholeNanos(r.latency(100, 0.1)));
    await send(entry, spansAt(MONDAY + 9 * H, values));
    expect(rows(db)).toEqual([]); // nothing written yet: no database round trip per span
    clock.advance(10_000);
    const written = rows(db);
    expect(written.map((w) => [w.day, w.hour, w.count])).toEqual([[MONDAY_DAY, 9, 60]]);
    await sidecar.shutdown();

    const again = await start(new FakeClock(MONDAY + 13 * H));
    const key = detectorOf(again.sidecar).model.get('checkout', 'GET /cart', 2)!;
    expect(key.count(9)).toBe(60);
    expect(meanAt(key.m, 9)).toBeCloseTo(values.reduce((a, b) => a + b) / 60, 9);
    // The restored baseline is used at once.
    await send(again.entry, spansAt(MONDAY + 9 * H, [1000]));
    const tagged = decodeSpans(capture.batches.at(-1)!.bytes)[0]!;
    expect(tagged.attributes['anomaly.baseline.samples']).toBe(60);
  });

  it('loses at most one flush interval when the process dies without shutting down', async () => {
    const firstClock = new FakeClock(MONDAY + 12 * H);
    const { entry } = await start(firstClock);
    await send(entry, spansAt(MONDAY + 9 * H, Array(40).fill(100)));
    firstClock.advance(10_000);
    await send(entry, spansAt(MONDAY + 10 * H, Array(40).fill(100)));
    // No flush and no shutdown: a second process opens the same file.
    const second = await start(new FakeClock(MONDAY + 12 * H));
    const key = detectorOf(second.sidecar).model.get('checkout', 'GET /cart', 2)!;
    expect(key.count()).toBe(40);
  });

  it('merges the daily rows of many flushes into exactly what one pass over the data gives', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const { entry } = await start(clock);
    const r = new Random(9);
    const nine: number[] = [];
    for (let flush = 0; flush < 5; flush++) {
      const values = Array.from({ length: 37 + flush }, () => wholeNanos(r.latency(80, 0.5)));
      nine.push(...values);
      await send(entry, spansAt(MONDAY + 9 * H + flush * 60_000, values));
      await send(entry, spansAt(MONDAY + 11 * H, [200]));
      clock.advance(10_000);
    }
    const [row9, row11] = rows(db);
    const m = emptyMoments();
    const s = new Sketch();
    for (const v of nine) {
      add(m, v);
      s.add(v);
    }
    expect(row9!.count).toBe(m.count);
    expect(row9!.mean).toBeCloseTo(m.mean, 9);
    expect(row9!.m2 / m.m2).toBeCloseTo(1, 9);
    expect(Buffer.from(row9!.sketch).equals(Buffer.from(s.encode()))).toBe(true);
    expect([row11!.hour, row11!.count, row11!.mean, row11!.m2]).toEqual([11, 5, 200, 0]);
  });

  it('keeps a window of window_days: older days leave the baselines and the database', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const { sidecar, entry } = await start(clock, { window_days: 3 });
    const perDay = [100, 200, 300, 400]; // Monday .. Thursday, all at 09:xx
    for (let d = 0; d < 4; d++) {
      await send(entry, spansAt(MONDAY + d * DAY + 9 * H, Array(10).fill(perDay[d])));
      clock.advance(DAY); // next day, 12:00: the flush after midnight rolls the window
      await detectorOf(sidecar).idle();
    }
    // Now Friday 12:00: the window is Wednesday .. Friday.
    expect(rows(db).map((r) => [r.day - MONDAY_DAY, r.count, r.mean])).toEqual([
      [2, 10, 300],
      [3, 10, 400],
    ]);
    const key = detectorOf(sidecar).model.get('checkout', 'GET /cart', 2)!;
    expect(key.count(168 + 9)).toBe(20); // hour 09:00 over the window
    expect(meanAt(key.m, 168 + 9)).toBe(350);
    expect(key.count(0 * 24 + 9)).toBe(0); // Monday 09:00 has left the window
  });

  it('drops anomaly history older than history_retention', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const { sidecar, entry } = await start(clock, { history_retention: '48h' });
    await send(entry, spansAt(MONDAY + 9 * H, Array(40).fill(100)));
    await send(entry, spansAt(MONDAY + 9 * H, [900]));
    const detector = detectorOf(sidecar);
    expect(detector.history({ limit: 10 })).toHaveLength(1); // from memory, before the flush
    clock.advance(10_000);
    expect(detector.history({ limit: 10 })).toHaveLength(1); // from SQLite
    clock.advance(3 * DAY);
    await detector.idle();
    expect(detector.history({ limit: 10 })).toEqual([]);
  });

  it('keeps at most max_history rows of anomaly history, the newest, across a restart', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const history = () => {
      const d = new Database(db, { readonly: true });
      try {
        return d.prepare('SELECT recorded_at FROM anomalies').all() as { recorded_at: number }[];
      } finally {
        d.close();
      }
    };
    // Four operations with a baseline each; each batch slows another one (every span tagged).
    const ops = ['GET /a', 'GET /b', 'GET /c', 'GET /d'];
    const slow = (n: number, op: number) =>
      spansAt(MONDAY + 9 * H + 60_000, Array<number>(n).fill(900), ops[op]);
    let { sidecar, entry } = await start(clock, { max_history: 1000 });
    await send(
      entry,
      ops.flatMap((op) => spansAt(MONDAY + 9 * H, Array(40).fill(100), op)),
    );
    await send(entry, slow(600, 0));
    clock.advance(10_000);
    const first = clock.now();
    expect(history()).toHaveLength(600);
    await send(entry, slow(600, 1));
    clock.advance(10_000);
    // 1,200 rows: the 200 oldest recorded go, every row of the second flush stays.
    const kept = history();
    expect(kept).toHaveLength(1000);
    expect(kept.filter((r) => r.recorded_at < first)).toHaveLength(400);
    const { registry } = sidecar.metrics;
    const dropped = await registry.getSingleMetric('hourglass_anomaly_dropped_total')!.get();
    expect(dropped.values.find((v) => v.labels.reason === 'history_limit')!.value).toBe(200);
    // A restart counts the rows it finds: 20 more are within the 1% margin, 20 beyond it are not.
    await sidecar.shutdown();
    ({ sidecar, entry } = await start(clock, { max_history: 1000 }));
    await send(entry, slow(10, 2));
    clock.advance(10_000);
    expect(history()).toHaveLength(1010);
    await send(entry, slow(10, 3));
    clock.advance(10_000);
    expect(history()).toHaveLength(1000);
  });

  it('moves a corrupted database aside, creates a new one, and keeps forwarding', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'data'));
    writeFileSync(db, Buffer.alloc(8192, 0x5a)); // not an SQLite file
    const clock = new FakeClock(MONDAY + 12 * H);
    const { entry, lines } = await start(clock);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('corrupted'))).toBe(true);
    expect(readdirSync(join(dir, 'data')).some((f) => f.startsWith('hg.db.corrupt-'))).toBe(true);
    await send(entry, spansAt(MONDAY + 9 * H, Array(30).fill(100)));
    expect(capture.batches).toHaveLength(1);
    clock.advance(10_000);
    expect(rows(db)).toHaveLength(1);
  });

  it('recreates a database file removed while running', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const { entry, lines } = await start(clock);
    await send(entry, spansAt(MONDAY + 9 * H, Array(30).fill(100)));
    clock.advance(10_000);
    for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
    await send(entry, spansAt(MONDAY + 10 * H, Array(5).fill(100)));
    clock.advance(10_000);
    expect(existsSync(db)).toBe(true);
    expect(rows(db).map((r) => [r.hour, r.count])).toEqual([[10, 5]]);
    expect(lines.some((l) => String(l.msg).includes('removed or replaced'))).toBe(true);
    expect(capture.batches).toHaveLength(2);
  });

  it('warns when the database was learned in another time zone', async () => {
    const first = await start(new FakeClock(MONDAY + 12 * H), { timezone: 'UTC' });
    await first.sidecar.shutdown();
    const again = await start(new FakeClock(MONDAY + 12 * H), { timezone: 'Europe/Berlin' });
    const warning = again.lines.find((l) => String(l.msg).includes('another time zone'));
    expect(warning).toMatchObject({ level: 40, stored: 'UTC', configured: 'Europe/Berlin' });
  });

  it('keeps scoring from memory and forwarding when the database cannot be opened', async () => {
    writeFileSync(join(dir, 'data'), 'a file where the directory should be');
    const clock = new FakeClock(MONDAY + 12 * H);
    const { sidecar, entry, lines } = await start(clock);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('cannot open'))).toBe(true);
    // 40 spans at Monday 09:00 and 2,000 the day before: history enough for a SEV1 of 10x the
    // median (without a shape, a smaller span claims no rarer than 1 in 2,040).
    await send(entry, [
      ...spansAt(MONDAY + 9 * H, Array(40).fill(100)),
      ...spansAt(MONDAY - 20 * H, Array(2000).fill(100)),
    ]);
    await send(entry, spansAt(MONDAY + 9 * H, [1000]));
    clock.advance(10_000);
    expect(capture.batches).toHaveLength(2);
    const tagged = decodeSpans(capture.batches[1]!.bytes)[0]!;
    expect(tagged.attributes['anomaly.severity']).toBe('SEV1');
    const failures = await sidecar.metrics.registry
      .getSingleMetric('hourglass_anomaly_storage_failures_total')!
      .get();
    expect(failures.values[0]!.value).toBeGreaterThanOrEqual(2);
  });
});
