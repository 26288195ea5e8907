import { setImmediate } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../../src/component/consumer.js';
import { recalculate } from '../../../src/detectors/anomaly/internal/recalculate.js';
import { BaselineStore } from '../../../src/detectors/anomaly/internal/store/baseline-store.js';
import { openDatabase } from '../../../src/detectors/anomaly/internal/store/open-database.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Random } from '../helpers/random.js';
import { detectorOf, startTestSidecar } from '../helpers/sidecar.js';
import { decodeSpans, traceRequest, wholeNanos, type SpanSpec } from '../helpers/traces.js';
import { THR_P50, THR_STRIDE } from '../../../src/detectors/anomaly/internal/thr-layout.js';
import { useSidecarFixture } from '../../helpers/sidecar-fixture.js';

/** Index of SEV3's and SEV1's thresholds in a slot's `[sev5 .. sev1]`. */
const SEV3 = 2;
const SEV1 = 4;

const H = 3_600_000;

async function send(entry: Consumer, spans: SpanSpec[]): Promise<void> {
  await entry.consume({ signal: 'traces', bytes: traceRequest(spans), items: spans.length });
}

function traffic(r: Random, startMs: number, n: number, median: number, sigma = 0.2): SpanSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: 'GET /cart',
    startMs: startMs + i * 10_000,
    durationMs: wholeNanos(r.latency(median, sigma)),
  }));
}

describe('threshold recalculation', () => {
  const f = useSidecarFixture('hourglass-recalc-');

  async function start(clock: FakeClock, settings: Record<string, unknown> = {}) {
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db'), ...settings },
      factories: [f.capture.factory],
    });
    return f.sidecar.service.pipelineEntries.get('traces')!;
  }

  async function fullRecalculations(): Promise<number> {
    const { registry } = f.sidecar!.metrics;
    const m = await registry.getSingleMetric('hourglass_anomaly_recalculations_total')?.get();
    return m?.values.find((v) => v.labels.result === 'ok')?.value ?? 0;
  }

  it('runs nightly on its cron schedule in the configured zone, across a DST change', async () => {
    // Saturday 2026-03-28 12:00 UTC; Berlin moves to summer time in the night to Sunday.
    const clock = new FakeClock(Date.UTC(2026, 2, 28, 12));
    await start(clock, { timezone: 'Europe/Berlin', recalculation: { schedule: '0 3 * * *' } });
    const detector = detectorOf(f.sidecar!);
    clock.set(Date.UTC(2026, 2, 29, 0, 59)); // 01:59 CET
    await detector.idle();
    expect(await fullRecalculations()).toBe(0);
    clock.set(Date.UTC(2026, 2, 29, 1, 0)); // 03:00 CEST (02:00 does not exist that night)
    await detector.idle();
    expect(await fullRecalculations()).toBe(1);
    clock.set(Date.UTC(2026, 2, 30, 0, 59)); // 02:59 CEST
    await detector.idle();
    expect(await fullRecalculations()).toBe(1);
    clock.set(Date.UTC(2026, 2, 30, 1, 0)); // 03:00 CEST
    await detector.idle();
    expect(await fullRecalculations()).toBe(2);
  });

  it('gives a new key learned thresholds and sketch percentiles soon after it has enough data', async () => {
    const monday = Date.UTC(2026, 0, 12);
    const clock = new FakeClock(monday + 12 * H);
    const entry = await start(clock);
    const r = new Random(21);
    const spans = traffic(r, monday + 9 * H, 400, 100);
    await send(entry, spans);
    const key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    expect(Number.isNaN(key.thr[9 * THR_STRIDE]!)).toBe(true); // fixed thresholds so far
    clock.advance(10_000); // flush, then the background refresh of keys that grew
    await detectorOf(f.sidecar!).idle();
    expect(Number.isNaN(key.thr[9 * THR_STRIDE]!)).toBe(false);
    await send(entry, [{ name: 'GET /cart', startMs: monday + 9 * H, durationMs: 2000 }]);
    const tagged = decodeSpans(f.capture.batches.at(-1)!.bytes)[0]!;
    const sorted = spans.map((s) => s.durationMs).sort((a, b) => a - b);
    const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
    const reported = tagged.attributes['anomaly.baseline.p99_ms'] as number;
    expect(Math.abs(reported - p99) / p99).toBeLessThan(0.011);
  });

  /**
   * A sidecar on Monday `hour`:01 whose key learned last Tuesday's `hour` (a shape: its first
   * thresholds), `spans(n, ms)`: n spans of this hour, the last ones ending now, and `flush()`.
   */
  async function keyWithHistory(hour: number, seed: number) {
    const monday = Date.UTC(2026, 0, 12);
    const clock = new FakeClock(monday + hour * H + 60_000);
    const entry = await start(clock);
    const detector = detectorOf(f.sidecar!);
    const r = new Random(seed);
    await send(entry, traffic(r, monday - 6 * 24 * H + hour * H, 300, 100));
    clock.advance(10_000);
    await detector.idle();
    const key = detector.model.get('checkout', 'GET /cart', 2)!;
    const at = clock.now();
    const spans = (n: number, ms: number) =>
      send(
        entry,
        Array.from({ length: n }, (_, i) => ({
          name: 'GET /cart',
          startMs: at - 50_000 + i * 100,
          durationMs: wholeNanos(r.latency(ms, 0.2)),
        })),
      );
    const flush = async () => {
      clock.advance(10_000);
      await detector.idle();
    };
    return { detector, key, spans, flush };
  }

  it("keeps the level's histogram through the background refresh of a key (it forgets nightly)", async () => {
    const { detector, key, spans, flush } = await keyWithHistory(9, 25);
    // Spans of this hour move the level and are counted in its histogram.
    await spans(400, 100);
    const counted = key.level.samples;
    expect(counted).toBeGreaterThan(0);
    const refreshed = key.refreshedAt;
    // This Monday 09:00 reached min_samples: its thresholds are computed in the background.
    await flush();
    expect(key.refreshedAt).toBeGreaterThan(refreshed);
    expect(key.level.samples).toBe(counted);
    // The nightly recalculation forgets 15% of it.
    await detector.recalculate();
    expect(key.level.samples).toBeCloseTo(counted * 0.85, 6);
  });

  it("judges a new hour's first spans by its hour of day while they are far beyond it (a fault under way as the hour began)", async () => {
    const monday = Date.UTC(2026, 0, 12);
    const tuesday = monday + 24 * H;
    const clock = new FakeClock(monday + 13 * H);
    const entry = await start(clock);
    const r = new Random(22);
    const calls = (from: number, n: number, draw: () => number): SpanSpec[] =>
      Array.from({ length: n }, (_, i) => ({
        name: 'GET /cart',
        startMs: from + i * 1000,
        durationMs: wholeNanos(draw()),
      }));
    // Monday 12:00: the hour's history, about 5 ms.
    await send(
      entry,
      calls(monday + 12 * H, 1000, () => r.latency(5, 0.3)),
    );
    clock.advance(10_000);
    await detectorOf(f.sidecar!).idle();
    // Tuesday 12:00 begins under a CPU fault: half its calls are throttled to 100 ms. Its bucket
    // reaches min_samples and the background refresh computes it while the hour is under way.
    const fault = () => (r.next() < 0.5 ? r.latency(100, 0.05) : r.latency(5, 0.3));
    clock.set(tuesday + 12 * H + 400_000);
    await send(entry, calls(tuesday + 12 * H, 400, fault));
    clock.advance(10_000);
    await detectorOf(f.sidecar!).idle();
    const key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    const bucket = 24 + 12;
    expect(key.count(bucket)).toBe(400);
    expect(Number.isNaN(key.thr[bucket * THR_STRIDE]!)).toBe(false);
    // Its bucket reads as Monday's hour: the throttled calls are SEV3 or worse, the others nothing.
    f.capture.batches.length = 0;
    const later = tuesday + 12 * H + 420_000;
    await send(
      entry,
      calls(later, 20, () => r.latency(100, 0.05)),
    );
    await send(
      entry,
      calls(later + 20_000, 20, () => r.latency(5, 0.3)),
    );
    const [slow, usual] = f.capture.batches.map((b) =>
      decodeSpans(b.bytes).filter((s) => Number(s.attributes['anomaly.severity_number']) <= 3),
    );
    expect(slow!.length).toBe(20);
    expect(usual!.length).toBe(0);
  });

  it('recalculates on demand and reports what changed', async () => {
    const monday = Date.UTC(2026, 0, 12);
    const clock = new FakeClock(monday + 12 * H);
    const entry = await start(clock, { recalculation: { enabled: false } });
    const detector = detectorOf(f.sidecar!);
    const r = new Random(22);
    await send(entry, traffic(r, monday + 9 * H, 400, 100, 0.1));
    const first = await detector.recalculate();
    expect(first.keys).toBe(1);
    // 360 spans on Monday 09:xx and 40 on 10:0x: Monday 09:00, hour 09:00, Monday and global hold
    // enough to learn the key's tail shape, and the two 10:00 slots, with min_samples, learn from
    // it too: six learned slots, none left on the fixed thresholds.
    expect(first.slots_learned).toBe(6);
    expect(first.slots_fixed).toBe(0);
    expect(first.changed).toBe(6);
    expect(first.changes[0]).toMatchObject({
      service: 'checkout',
      operation: 'GET /cart',
      kind: 'server',
      before: null,
    });
    expect(Object.keys(first.changes[0]!.after!)).toEqual(['SEV5', 'SEV4', 'SEV3', 'SEV2', 'SEV1']);
    expect((await detector.recalculate()).changed).toBe(0);
    // Noisier traffic (10:06 to 11:13) moves the thresholds: of the slots it lands in, and, as it
    // changes the key's tail shape, of Monday 09:00 too.
    await send(entry, traffic(r, monday + 9 * H + 400 * 10_000, 400, 100, 0.6));
    const third = await detector.recalculate();
    expect(third.changed).toBe(8);
    expect(third.changes.map((c) => c.window).sort()).toEqual([
      'Mon 00:00-24:00 UTC',
      'Mon 09:00-10:00 UTC',
      'Mon 10:00-11:00 UTC',
      'Mon 11:00-12:00 UTC',
      'all week UTC',
      'daily 09:00-10:00 UTC',
      'daily 10:00-11:00 UTC',
      'daily 11:00-12:00 UTC',
    ]);
  });

  it('joins requests for a recalculation that has not started yet: one runs, at most one waits', async () => {
    const monday = Date.UTC(2026, 0, 12);
    const clock = new FakeClock(monday + 12 * H);
    const entry = await start(clock, { recalculation: { enabled: false } });
    const detector = detectorOf(f.sidecar!);
    await send(entry, traffic(new Random(23), monday + 9 * H, 400, 100, 0.1));
    // POST /api/v1/recalculate in a loop: each request queued a full recalculation, without bound.
    const reports = await Promise.all(Array.from({ length: 50 }, () => detector.recalculate()));
    expect(reports.every((r) => r.keys === 1)).toBe(true);
    // Asked for before the first started: all join it (before the fix: 50 recalculations).
    expect(await fullRecalculations()).toBe(1);
    // One asked for after it ran is a new one (it may see newer data).
    expect((await detector.recalculate()).keys).toBe(1);
    expect(await fullRecalculations()).toBe(2);
  });

  it('reads the 10x rule from the history a key has at each span, not at its last recalculation', async () => {
    const monday = Date.UTC(2026, 0, 12);
    const clock = new FakeClock(monday + 12 * H);
    const settings = { recalculation: { enabled: false } };
    let entry = await start(clock, settings);
    const r = new Random(31);
    // A cache: hits near 10 ms, 10% misses near 60 ms (85 at most: under 10x the median), Monday
    // 09:00 and 10:00. Its first 700 spans hold one of 150 ms: a 10x span once in 700 is not rare.
    const cache = (startMs: number, n: number): SpanSpec[] =>
      Array.from({ length: n }, (_, i) => ({
        name: 'GET /cart',
        startMs: startMs + i * 1000,
        durationMs: wholeNanos(
          i % 10 === 7 ? Math.min(85, r.latency(60, 0.3)) : r.latency(10, 0.2),
        ),
      }));
    const first = cache(monday + 9 * H, 700).map((s, i) =>
      i === 350 ? { ...s, durationMs: 150 } : s,
    );
    await send(entry, first);
    await detectorOf(f.sidecar!).recalculate();
    // The new key's background refresh, queued by that recalculation's flush, reads the same.
    await detectorOf(f.sidecar!).idle();
    let key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    expect(key.tenfold).toEqual({ beyond: 1, total: 700, capped: false });
    expect(key.tenfoldRare()).toBe(false);
    const at = 9 * THR_STRIDE;
    const median = key.thr[at + THR_P50]!;
    // A span 11x the median, with the error status (scored, not learned): far below the SEV5 the
    // tail shape extrapolates (the misses), so untagged while 10x spans are not rare.
    const probeMs = 11 * median;
    expect(key.thr[at]!).toBeGreaterThan(probeMs);
    const severity = async () => {
      const probe = { name: 'GET /cart', startMs: monday + 9 * H + 1_800_000, durationMs: probeMs };
      await send(entry, [{ ...probe, status: 2 }]);
      return decodeSpans(f.capture.batches.at(-1)!.bytes)[0]!.attributes['anomaly.severity'];
    };
    expect(await severity()).toBeUndefined();
    // 800 more spans, no 10x one among them, and no recalculation: once in 1,500 is rare.
    await send(entry, cache(monday + 10 * H, 800));
    expect(key.tenfold).toEqual({ beyond: 1, total: 1500, capped: true });
    expect(key.tenfoldRare()).toBe(true);
    expect(key.thr[at + SEV3]!).toBeLessThanOrEqual(10 * median);
    expect(await severity()).toBe('SEV3');
    // A restart keeps the count (stored with the key's level) and the cap it gave the thresholds.
    const stop = async () => {
      await f.sidecar!.shutdown();
      f.sidecar = undefined;
    };
    const again = async () => {
      entry = await start(clock, settings);
      return detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    };
    await stop();
    key = await again();
    expect(key.count()).toBe(1500);
    expect(key.tenfold).toEqual({ beyond: 1, total: 1500, capped: true });
    expect(key.thr[at + SEV3]!).toBeLessThanOrEqual(10 * median);
    expect(await severity()).toBe('SEV3');
    // A row without the count (schema 4 wrote it): not known until the first recalculation, the
    // thresholds' reading meanwhile.
    await stop();
    const db = new Database(f.path('hg.db'));
    const erased = db
      .prepare(
        'UPDATE levels SET tenfold_beyond = NULL, tenfold_total = NULL, tenfold_capped = NULL',
      )
      .run();
    db.close();
    expect(erased.changes).toBe(1);
    key = await again();
    expect(key.count()).toBe(1500);
    expect(key.tenfold).toBeUndefined();
    expect(await severity()).toBeUndefined();
    // The recalculation reads it from the stored history, and its thresholds carry the rule.
    await detectorOf(f.sidecar!).recalculate();
    key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    expect(key.tenfold).toEqual({ beyond: 1, total: 1500, capped: false });
    expect(key.thr[at + SEV3]!).toBeLessThanOrEqual(10 * key.thr[at + THR_P50]!);
    expect(await severity()).toBe('SEV3');
  });

  it("keeps in a key's 10x count the spans it learned while a recalculation worked through the keys before it", async () => {
    const monday = Date.UTC(2026, 0, 12);
    const clock = new FakeClock(monday + 12 * H);
    const entry = await start(clock, { recalculation: { enabled: false } });
    const detector = detectorOf(f.sidecar!);
    const r = new Random(41);
    const spans = (name: string, startMs: number, n: number): SpanSpec[] =>
      Array.from({ length: n }, (_, i) => ({
        name,
        startMs: startMs + i * 1000,
        durationMs: wholeNanos(r.latency(20, 0.2)),
      }));
    // Two keys, GET /a first (the recalculation's first), each counted by a recalculation.
    await send(entry, spans('GET /a', monday + 9 * H, 300));
    await send(entry, spans('GET /b', monday + 9 * H, 300));
    await detector.recalculate();
    await detector.idle();
    const [a, b] = ['GET /a', 'GET /b'].map((op) => detector.model.get('checkout', op, 2)!);
    expect(b!.tenfold).toEqual({ beyond: 0, total: 300, capped: false });
    // The next one writes what they learned, then yields to traffic between keys: once GET /a
    // has its thresholds, GET /b learns 100 spans before its turn (no timer runs: the clock stands).
    const [aThresholds, bThresholds] = [a!.thr, b!.thr];
    const running = detector.recalculate();
    while (a!.thr === aThresholds) await setImmediate();
    await send(entry, spans('GET /b', monday + 10 * H, 100));
    expect(b!.thr).toBe(bThresholds);
    expect(b!.tenfold!.total).toBe(400);
    await running;
    expect(b!.thr).not.toBe(bThresholds);
    // Its count is the stored window's and what it learned since (before the fix: 300).
    expect(b!.count()).toBe(400);
    expect(b!.tenfold).toEqual({ beyond: 0, total: 400, capped: false });
    // Written at the next flush, the count is as the next recalculation reads it.
    clock.advance(10_000);
    await detector.idle();
    await detector.recalculate();
    expect(b!.tenfold).toEqual({ beyond: 0, total: 400, capped: false });
  });

  it('picks up thresholds recalculated by another process at its next flush', async () => {
    const monday = Date.UTC(2026, 0, 12);
    const clock = new FakeClock(monday + 12 * H);
    const entry = await start(clock, { recalculation: { enabled: false } });
    const detector = detectorOf(f.sidecar!);
    // 2,400 spans: a shape that tells SEV3's rate, so SEV1 follows its percentile (a smaller
    // one starts SEV3 and above at an order of magnitude, whatever the percentiles).
    await send(entry, traffic(new Random(23), monday + 9 * H, 2400, 100));
    await detector.recalculate();
    const key = detector.model.get('checkout', 'GET /cart', 2)!;
    const before = key.thr[9 * THR_STRIDE + SEV1]!;
    // `hourglass recalculate` with stricter percentiles, on the same file.
    const db = openDatabase(f.path('hg.db'), silentLogger(), clock.now());
    await recalculate(new BaselineStore(db), {
      sinceDay: Math.floor(monday / (24 * H)) - 29,
      percentiles: [0.99, 0.999, 0.9999, 0.99999, 0.999999],
      minSamples: 30,
      now: clock.now(),
      timeZone: 'UTC',
    });
    db.close();
    expect(key.thr[9 * THR_STRIDE + SEV1]).toBe(before);
    clock.advance(10_000);
    expect(key.thr[9 * THR_STRIDE + SEV1]!).toBeGreaterThan(before);
  });
});
