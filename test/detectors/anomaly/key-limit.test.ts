import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BaselineModel } from '../../../src/detectors/anomaly/internal/baseline-model.js';
import type { KeyState } from '../../../src/detectors/anomaly/internal/key-state.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { standaloneDetector } from '../helpers/detector.js';
import { traceRequest, type SpanSpec } from '../helpers/traces.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;
const DAY = 24 * H;

/** Gives a key `n` spans of history (a baseline once n >= min_samples). */
function learn(key: KeyState, n: number): KeyState {
  for (let i = 0; i < n; i++) key.learn(0, 0, 10);
  key.pending = [];
  return key;
}

describe('max_keys: which keys make room', () => {
  it('admits keys of a new service in place of cold junk, never in place of keys in use', () => {
    const model = new BaselineModel(10, 30);
    for (let i = 0; i < 10; i++) model.key('evil', `id-${i}`, 2);
    // The junk is hot (seen in this interval): nothing gives way yet, the span is counted.
    expect(model.key('shop', 'GET /cart', 2)).toBeUndefined();
    expect(model.refusedKeys).toBe(1);
    model.tick();
    model.tick();
    const cart = model.key('shop', 'GET /cart', 2);
    expect(cart?.service).toBe('shop');
    expect(model.size).toBe(10);
    expect(model.evictedKeys).toBe(1);
    expect([...model.keys()].filter((k) => k.service === 'evil')).toHaveLength(9);
  });

  it("takes room from a service over its share for a new service, never from a service's keys in use", () => {
    const model = new BaselineModel(10, 30);
    for (let i = 0; i < 10; i++) learn(model.key('big', `op-${i}`, 2)!, 40);
    model.tick();
    model.tick();
    // 'big' holds 10 keys with baselines; a new service's share is 10 / 2 = 5.
    expect(model.key('new', 'op', 2)).toBeDefined();
    expect(model.evictedKeys).toBe(1);
    // 'big' is over its share itself: its new key finds no junk to replace.
    expect(model.key('big', 'op-new', 2)).toBeUndefined();
    // Keys seen in this interval are never taken.
    for (const k of model.keys()) model.key(k.service, k.operation, k.kind);
    expect(model.key('third', 'op', 2)).toBeUndefined();
  });

  it('gives up after a full turn without a victim until the next interval (bounded cost)', () => {
    const model = new BaselineModel(1000, 30);
    for (let i = 0; i < 1000; i++) model.key('svc', `op-${i}`, 2);
    for (let i = 0; i < 100; i++) expect(model.key('svc', `new-${i}`, 2)).toBeUndefined();
    expect(model.refusedKeys).toBe(100);
    model.tick();
    model.tick();
    expect(model.key('svc', 'new-0', 2)).toBeDefined();
  });
});

describe('max_keys and idle keys with the database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spans = (names: string[], startMs: number, service = 'checkout'): SpanSpec[] =>
    names.map((name, i) => ({ service, name, startMs: startMs + i, durationMs: 10 }));

  it('deletes the stored rows of evicted keys, so the file holds at most max_keys keys', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const file = join(dir, 'hg.db');
    const d = await standaloneDetector(file, { max_keys: 20 }, clock);
    const names = (from: number) => Array.from({ length: 20 }, (_, i) => `GET /item/${from + i}`);
    for (let round = 0; round < 5; round++) {
      d.accept(d.score(traceRequest(spans(names(round * 20), MONDAY + 9 * H))));
      // Two timer flushes: the keys of this round are cold for the next one.
      clock.advance(2 * H + 1);
    }
    await d.shutdown();
    const db = new Database(file, { readonly: true });
    const keys = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM keys').get()!.n;
    db.close();
    expect(keys).toBeLessThanOrEqual(20);
  });

  it('forgets keys without a baseline and without a span today or yesterday, in memory and on disk', async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    const file = join(dir, 'hg.db');
    const d = await standaloneDetector(file, {}, clock);
    const steady = Array.from({ length: 40 }, () => 'GET /cart');
    d.accept(d.score(traceRequest(spans([...steady, 'GET /order/123'], MONDAY + 9 * H))));
    d.flush();
    for (let day = 1; day <= 3; day++) {
      clock.set(MONDAY + day * DAY + 12 * H);
      d.accept(d.score(traceRequest(spans(['GET /cart'], MONDAY + day * DAY + 9 * H))));
      d.flush();
      await d.idle();
    }
    expect(d.keys({}).map((k) => k.operation)).toEqual(['GET /cart']);
    await d.shutdown();
    const db = new Database(file, { readonly: true });
    const ops = db.prepare<[], { operation: string }>('SELECT operation FROM keys').all();
    db.close();
    expect(ops.map((r) => r.operation)).toEqual(['GET /cart']);
  });
});
