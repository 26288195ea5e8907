import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import {
  R_ERRORS,
  R_ERR_SPANS,
  R_MINUTES,
  R_SPANS,
  R_STRIDE,
} from '../../../src/detectors/anomaly/internal/rates/rate-state.js';
import { SLOT_COUNT } from '../../../src/detectors/anomaly/internal/slots.js';
import { useTempDirs } from '../../exporters/harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { PG_PASSWORD } from '../../helpers/postgres.js';
import { usePgCluster } from '../../helpers/use-postgres.js';
import { standaloneDetector } from '../helpers/detector.js';
import { traceRequest, type SpanSpec } from '../helpers/traces.js';

// A real PostgreSQL server (Debian's postgresql 15), a throwaway cluster for this file.
const pg = usePgCluster();
const tempDir = useTempDirs('hourglass-fleet-');
const detectors: AnomalyDetector[] = [];
afterEach(async () => {
  await Promise.all(detectors.splice(0).map((d) => d.shutdown()));
});

/** A new database on the cluster; the password in a file, as a mounted secret would hold it. */
function newDatabase(): { storage: string; postgres: Record<string, unknown> } {
  const name = pg.database();
  const file = join(tempDir(), 'pg-password');
  writeFileSync(file, `${PG_PASSWORD}\n`);
  return { storage: pg.cluster().url(name), postgres: { password_file: file } };
}

async function detector(
  storage: string,
  clock: FakeClock,
  extra: Record<string, unknown> = {},
  fleetSchema?: number,
): Promise<AnomalyDetector> {
  const d = await standaloneDetector(storage, { min_samples: 20, ...extra }, clock, {
    fleetSchema,
  });
  detectors.push(d);
  return d;
}

/** A deterministic pseudo-random stream (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPERATIONS = [
  { service: 'checkout', name: 'POST /pay', median: 80 },
  { service: 'checkout', name: 'GET /cart', median: 12 },
  { service: 'inventory', name: 'reserve', median: 30 },
];

/** One hour of traffic: per operation, log-normal durations, one span every few seconds. */
function hourOfTraffic(startMs: number, rnd: () => number): SpanSpec[] {
  const spans: SpanSpec[] = [];
  for (let s = 0; s < 3600; s += 15) {
    for (const op of OPERATIONS) {
      const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      spans.push({
        service: op.service,
        name: op.name,
        startMs: startMs + s * 1000 + Math.floor(rnd() * 1000),
        durationMs: Math.round(op.median * Math.exp(0.3 * z) * 100) / 100,
      });
    }
  }
  return spans;
}

function keyOf(d: AnomalyDetector, op: (typeof OPERATIONS)[number]) {
  const [k] = d.keys({ service: op.service, operation: op.name });
  expect(k, `${op.service} ${op.name}`).toBeDefined();
  return k!;
}

function expectSameMoments(a: AnomalyDetector, b: AnomalyDetector): void {
  for (const op of OPERATIONS) {
    const ma = keyOf(a, op).m;
    const mb = keyOf(b, op).m;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const i = slot * 3;
      expect(ma[i], `count of slot ${slot}`).toBe(mb[i]);
      expect(ma[i + 1]!).toBeCloseTo(mb[i + 1]!, 9);
      expect(Math.abs(ma[i + 2]! - mb[i + 2]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, mb[i + 2]!));
    }
  }
}

/**
 * Plays `hours` of traffic from `t0`: `one` receives all of it, `halves[0]` and `halves[1]`
 * alternate spans (a load balancer's halves), every detector flushing each simulated hour.
 */
async function play(
  clock: FakeClock,
  hours: number,
  one: AnomalyDetector,
  halves: readonly AnomalyDetector[],
  rnd: () => number,
): Promise<void> {
  for (let h = 0; h < hours; h++) {
    const spans = hourOfTraffic(clock.now(), rnd);
    for (let i = 0; i < spans.length; i += 60) {
      const part = spans.slice(i, i + 60);
      one.accept(one.score(traceRequest(part)));
      for (let j = 0; j < halves.length; j++) {
        const mine = part.filter((_s, n) => n % halves.length === j);
        halves[j]!.accept(halves[j]!.score(traceRequest(mine)));
      }
    }
    clock.advance(3_600_000);
    await one.flushNow();
    for (const d of halves) await d.flushNow();
  }
  // Each instance reads what the others wrote last at its next flush.
  for (const d of halves) await d.flushNow();
}

describe('a fleet sharing baselines in PostgreSQL', () => {
  it('two processors on one database, each given half the traffic, end with the baselines of one given all of it', async () => {
    const db = newDatabase();
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 0));
    const one = await detector(join(tempDir(), 'one.db'), clock);
    const a = await detector(db.storage, clock, { postgres: db.postgres });
    const b = await detector(db.storage, clock, { postgres: db.postgres });
    await play(clock, 30, one, [a, b], random(7));

    // The window's moments (count, mean, M2 of all 200 slots of every key).
    expectSameMoments(a, one);
    expectSameMoments(b, one);
    expect(keyOf(a, OPERATIONS[0]!).count()).toBe(30 * 240);

    // Thresholds learned from the merged rows equal those learned from all the traffic: the
    // sketches merge bin by bin, so the percentiles are the same numbers.
    const fleetReport = await a.recalculate();
    const oneReport = await one.recalculate();
    expect(fleetReport.keys).toBe(oneReport.keys);
    expect(fleetReport.slots_learned).toBe(oneReport.slots_learned);
    await b.flushNow(); // b installs the fleet's new thresholds
    for (const op of OPERATIONS) {
      const want = one.profile(keyOf(one, op));
      for (const d of [a, b]) {
        const got = d.profile(keyOf(d, op));
        expect(got.global.samples).toBe(want.global.samples);
        expect(got.global.p99_ms).toBeCloseTo(want.global.p99_ms!, 6);
        expect(got.global.p50_ms).toBeCloseTo(want.global.p50_ms!, 6);
        for (let i = 0; i < want.hours.length; i++) {
          const [g, w] = [got.hours[i]!, want.hours[i]!];
          expect(g.samples).toBe(w.samples);
          expect(g.p99_ms === null ? null : Number(g.p99_ms.toPrecision(9))).toBe(
            w.p99_ms === null ? null : Number(w.p99_ms.toPrecision(9)),
          );
          expect(g.thresholds.source).toBe(w.thresholds.source);
          for (const [sev, z] of Object.entries(w.thresholds.sigma)) {
            expect(g.thresholds.sigma[sev]).toBeCloseTo(z, 6);
          }
        }
      }
    }
  }, 120_000);

  it("a processor started later scores its first spans against the fleet's baselines and thresholds, and the history is shared", async () => {
    const db = newDatabase();
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 0));
    const one = await detector(join(tempDir(), 'one.db'), clock);
    const a = await detector(db.storage, clock, { postgres: db.postgres });
    const b = await detector(db.storage, clock, { postgres: db.postgres });
    await play(clock, 6, one, [a, b], random(11));
    await a.recalculate();

    const slow = { service: 'checkout', name: 'POST /pay', startMs: clock.now(), durationMs: 900 };
    const tagged = a.score(traceRequest([slow]));
    expect(tagged.anomalies).toHaveLength(1);
    a.accept(tagged);
    one.accept(one.score(traceRequest([slow]))); // the reference sees what the fleet saw
    await a.flushNow();

    // A third instance, new: no span seen yet, and it tags at once.
    const c = await detector(db.storage, clock, { postgres: db.postgres });
    const late = { ...slow, startMs: clock.now() + 1000, durationMs: 850 };
    const first = c.score(traceRequest([late]));
    expect(first.anomalies).toHaveLength(1);
    // Against the same baseline as a processor that saw the whole fleet's traffic.
    await one.recalculate();
    const reference = one.score(traceRequest([late])).anomalies[0]!;
    expect(first.anomalies[0]!.samples).toBe(reference.samples);
    expect(first.anomalies[0]!.scope).toBe(reference.scope);
    expect(first.anomalies[0]!.meanMs).toBeCloseTo(reference.meanMs, 9);
    expect(first.anomalies[0]!.severity).toBe(reference.severity);
    // The same span to a fresh single processor: nothing learned, nothing tagged.
    const fresh = await detector(join(tempDir(), 'fresh.db'), clock);
    expect(fresh.score(traceRequest([late])).anomalies).toHaveLength(0);

    // Any instance serves the fleet's history.
    const history = await c.fleet!.history({ limit: 10, sinceMs: slow.startMs });
    expect(history.map((r) => r.id)).toEqual([tagged.anomalies[0]!.id]);
  }, 120_000);

  it("the fleet's anomaly history keeps at most max_history rows, the newest, at retention", async () => {
    const db = newDatabase();
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const name = new URL(db.storage).pathname.slice(1);
    const settings = { postgres: db.postgres, max_history: 1000 };
    const a = await detector(db.storage, clock, settings);
    const at = clock.now() - 3_600_000;
    const spans = (name: string, n: number, durationMs: number) =>
      Array.from({ length: n }, (_, i) => ({ name, startMs: at + i * 1000, durationMs }));
    a.accept(a.score(traceRequest([...spans('GET /a', 40, 100), ...spans('GET /b', 40, 100)])));
    const first = a.score(traceRequest(spans('GET /a', 600, 900)));
    expect(first.anomalies).toHaveLength(600);
    a.accept(first);
    clock.advance(1000);
    const second = a.score(traceRequest(spans('GET /b', 600, 900)));
    expect(second.anomalies).toHaveLength(600);
    a.accept(second);
    await a.flushNow();
    const count = (where = '') =>
      Number(pg.cluster().psql(`SELECT count(*) FROM hg_anomalies ${where}`, name));
    expect(count()).toBe(1200);
    // Another instance starting runs the fleet's retention: the 200 oldest recorded go.
    await detector(db.storage, clock, settings);
    expect(count()).toBe(1000);
    expect(count(`WHERE recorded_at = ${clock.now()}`)).toBe(600);
  }, 120_000);

  it("replays an instance's own anomalies in the order published (schema 8); one of schema 7 beside it writes no seq and cannot resume", async () => {
    const db = newDatabase();
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const name = new URL(db.storage).pathname.slice(1);
    const old = await detector(db.storage, clock, { postgres: db.postgres }, 7);
    const now = await detector(db.storage, clock, { postgres: db.postgres });
    const at = clock.now() - 3_600_000;
    const spans = (n: number, durationMs: number, from = 0) =>
      Array.from({ length: n }, (_, i) => ({
        name: 'GET /a',
        startMs: at + (from + i) * 1000,
        durationMs,
      }));
    for (const d of [old, now]) d.accept(d.score(traceRequest(spans(40, 100))));
    const tag = (d: AnomalyDetector, from: number) => {
      const scored = d.score(traceRequest(spans(3, 900, from)));
      expect(scored.anomalies).toHaveLength(3);
      d.accept(scored);
      return scored.anomalies.map((r) => r.id);
    };
    const start = now.streamPosition();
    const mine = [...tag(now, 100), ...tag(now, 200)];
    tag(old, 300);
    clock.advance(1000);
    await old.flushNow();
    await now.flushNow();
    const seqs = pg.cluster().psql("SELECT count(seq) || '/' || count(*) FROM hg_anomalies", name);
    expect(seqs).toBe('6/9'); // the older release's three have none
    // From the start, from the first: its own, in the order published; the other's never.
    expect((await now.replay(start, {}, 100))!.map((r) => r.id)).toEqual(mine);
    const after = (await now.replay(start, {}, 100))![0]!.seq;
    expect((await now.replay(after, {}, 100))!.map((r) => r.id)).toEqual(mine.slice(1));
    expect(await now.replay(after, {}, 2)).toHaveLength(2); // at most the limit read
    expect(await now.replay(after + 1_000_000_000, {}, 100)).toBeUndefined(); // not a place
    expect(await old.replay(old.streamPosition(), {}, 100)).toBeUndefined();
  }, 120_000);

  it('a flush reads only what the other instances changed since the last one, each change once, and the log is pruned', async () => {
    const db = newDatabase();
    const name = db.storage.split('/').pop()!;
    const psql = (sql: string) => pg.cluster().psql(sql, name);
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 0));
    const one = await detector(join(tempDir(), 'one.db'), clock);
    const a = await detector(db.storage, clock, { postgres: db.postgres });
    const b = await detector(db.storage, clock, { postgres: db.postgres });
    await play(clock, 8, one, [a, b], random(5));
    const settle = () => Promise.all([a, b].map((d) => d.idle()));
    await settle();
    /** What a read of the others' learning while `step` ran (its flushes and their jobs). */
    const readBy = async (step: () => Promise<void>) => {
      const before = { ...a.fleet!.followed };
      await step();
      await settle();
      const after = a.fleet!.followed;
      return {
        changes: after.changes - before.changes,
        wholeKeys: after.wholeKeys - before.wholeKeys,
        windows: after.windows - before.windows,
      };
    };
    /** Flushes of `ds`, one after the other. */
    const flushes = async (...ds: AnomalyDetector[]) => {
      for (const d of ds) await d.flushNow();
    };
    const send = (to: AnomalyDetector[], spans: SpanSpec[]) => {
      for (const d of [one, ...to]) d.accept(d.score(traceRequest(spans)));
    };

    // One span more on b: a's next flush reads that one change, not the key's 16 daily rows.
    const span = { service: 'checkout', name: 'GET /cart', startMs: clock.now(), durationMs: 13 };
    send([b], [span]);
    expect(await readBy(() => flushes(b, a))).toEqual({ changes: 1, wholeKeys: 0, windows: 0 });
    expectSameMoments(a, one);
    expectSameMoments(b, one);
    // Nothing changed: nothing read.
    expect(await readBy(() => a.flushNow())).toEqual({ changes: 0, wholeKeys: 0, windows: 0 });

    // A key new to a is read whole (its history before the last snapshot is not in a's memory).
    const fresh = { ...span, name: 'DELETE /cart', startMs: clock.now() + 1000 };
    send([b], [fresh, fresh]);
    expect(await readBy(() => flushes(b, a))).toEqual({ changes: 0, wholeKeys: 1, windows: 0 });
    expect(a.keys({ operation: 'DELETE /cart' })[0]!.count()).toBe(2);

    // An instance of the previous release logs nothing: the keys it changed are read whole.
    const old = await detector(db.storage, clock, { postgres: db.postgres }, 3);
    send([old], [{ ...span, name: 'POST /pay', startMs: clock.now() + 2000, durationMs: 90 }]);
    expect(await readBy(() => flushes(old, a))).toEqual({ changes: 0, wholeKeys: 1, windows: 0 });
    expectSameMoments(a, one);
    await b.flushNow();
    expectSameMoments(b, one);

    // Once every reader has read them, the log's rows are pruned.
    await a.flushNow();
    await b.flushNow();
    await settle();
    expect(psql('SELECT count(*) FROM hg_changes')).toBe('0');

    // A reader silent for over an hour no longer holds the log; it reads the whole window again.
    psql(
      `UPDATE hg_instances SET read_at = now() - interval '2 hours' WHERE instance = '${a.fleet!.instance}'`,
    );
    send([b], [{ ...span, startMs: clock.now() + 3000, durationMs: 11 }]);
    await b.flushNow();
    await b.flushNow(); // its acknowledgement prunes past a's place
    expect(psql('SELECT count(*) FROM hg_changes')).toBe('0');
    expect(await readBy(() => a.flushNow())).toEqual({ changes: 0, wholeKeys: 0, windows: 1 });
    expectSameMoments(a, one);
  }, 120_000);
  it("the error and traffic baselines are the fleet's too: each instance's rows summed, read by every instance, a new one starting with them", async () => {
    const db = newDatabase();
    const from = Date.UTC(2026, 0, 5, 9);
    const clock = new FakeClock(from);
    const one = await detector(join(tempDir(), 'one.db'), clock);
    const a = await detector(db.storage, clock, { postgres: db.postgres });
    const b = await detector(db.storage, clock, { postgres: db.postgres });
    // 30 minutes of 60 spans a minute of one operation, one in 20 failing; a load balancer
    // alternates them between a and b. Each request is scored just after its spans ended.
    for (let m = 0; m < 30; m++) {
      for (let cell = 0; cell < 6; cell++) {
        const spans: SpanSpec[] = Array.from({ length: 10 }, (_s, i) => ({
          service: 'checkout',
          name: 'POST /pay',
          startMs: from + m * 60_000 + cell * 10_000 + i * 1000,
          durationMs: 20,
          ...((cell * 10 + i) % 20 === 0 ? { status: 2 } : {}),
        }));
        clock.set(from + m * 60_000 + (cell + 1) * 10_000 + 500);
        one.accept(one.score(traceRequest(spans)));
        a.accept(a.score(traceRequest(spans.filter((_s, i) => i % 2 === 0))));
        b.accept(b.score(traceRequest(spans.filter((_s, i) => i % 2 === 1))));
      }
      // Each flush's read of the other instance's rows finishes before the next minute is
      // scored: how much fleet history judges a minute (a drop, say) must not depend on timing.
      if (m % 10 === 9) for (const d of [one, a, b]) await d.flushNow().then(() => d.idle());
    }
    clock.advance(120_000); // the last minutes close
    for (const d of [one, a, b, a]) await d.flushNow();
    await Promise.all([a, b].map((d) => d.idle()));
    const stats = (d: AnomalyDetector) =>
      Array.from(d.keys({ operation: 'POST /pay' })[0]!.rates!.stats);
    const sum = (s: number[], column: number) =>
      s.filter((_x, i) => i % R_STRIDE === column).reduce((x, y) => x + y, 0);
    const fleet = stats(a);
    expect(stats(b)).toEqual(fleet);
    expect(sum(fleet, R_SPANS)).toBe(30 * 60);
    // The error share is what one process given all the traffic learned, bucket by bucket.
    const all = stats(one);
    for (let i = 0; i < all.length; i++) {
      if (i % R_STRIDE === R_ERR_SPANS || i % R_STRIDE === R_ERRORS || i % R_STRIDE === R_SPANS) {
        expect(fleet[i], `column ${i % R_STRIDE} of bucket ${Math.floor(i / R_STRIDE)}`).toBe(
          all[i],
        );
      }
    }
    expect(sum(fleet, R_ERRORS)).toBe(30 * 3);
    // The traffic is per instance-minute: each instance observed every minute, so the fleet's
    // expectation is the rate one instance of it sees (half of the whole, here).
    expect(sum(fleet, R_MINUTES)).toBe(2 * sum(all, R_MINUTES));
    const name = db.storage.split('/').pop()!;
    expect(
      pg.cluster().psql('SELECT count(DISTINCT instance), sum(spans) FROM hg_rates', name),
    ).toBe('2|1800');
    // A new instance starts with the fleet's.
    const c = await detector(db.storage, clock, { postgres: db.postgres });
    expect(stats(c)).toEqual(fleet);
  }, 120_000);
});
