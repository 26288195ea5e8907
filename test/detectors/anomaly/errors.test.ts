import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { standaloneDetector } from '../helpers/detector.js';
import type { DecodedSpan } from '../helpers/traces.js';
import { Random } from '../helpers/random.js';
import { H, MIN, MONDAY, play, taggedBy } from './rates-helpers.js';

/**
 * The error detector: per key and hour, the share of failing spans; a burst of errors unusual for
 * that operation at that hour tags its error spans `anomaly.detector=errors`.
 */
describe('error bursts', () => {
  let dir: string;
  let clock: FakeClock;
  let d: AnomalyDetector;
  const r = new Random(11);
  const LEARN_FROM = MONDAY + 8 * H;
  const TEST_AT = MONDAY + 9 * H + 40 * MIN;

  const pay =
    (errorShare: number, type = 'CardDeclined') =>
    (_m: number, _i: number) => {
      const failed = r.next() < errorShare;
      return {
        name: 'POST /pay',
        durationMs: failed ? 2 : r.latency(80, 0.2),
        status: failed ? 2 : 0,
        statusMessage: failed ? 'card declined' : undefined,
        events: failed
          ? [{ name: 'exception', attributes: { 'exception.type': type } }]
          : undefined,
      };
    };

  const failed = (s: DecodedSpan) => s.durationMs < 2.5;

  async function start(settings: Record<string, unknown> = {}) {
    d = await standaloneDetector(join(dir, 'hg.db'), settings, clock);
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-errors-'));
    clock = new FakeClock(LEARN_FROM);
    await start();
  });
  afterEach(async () => {
    await d.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves background errors untagged and tags a burst with the share, the usual share and the error type, redacted', () => {
    const learning = play(d, clock, LEARN_FROM, 100, 60, pay(0.01));
    expect(learning.filter((s) => s.span.attributes['anomaly.detector'] === 'errors')).toEqual([]);
    const burst = play(d, clock, TEST_AT, 3, 60, pay(0.3, 'PaymentDeclined for bob@example.com'));
    const errorSpans = burst.filter((s) => failed(s.span));
    const tagged = taggedBy(burst, 'errors');
    // Every tagged span is an error span (the failures take 2 ms, successes about 80); nearly all error spans after the first seconds are.
    expect(tagged.filter((s) => !failed(s.span))).toEqual([]);
    expect(tagged.length).toBeGreaterThan(errorSpans.length * 0.85);
    const late = tagged.filter((s) => s.minute >= 1).map((s) => s.span.attributes);
    expect(late.every((a) => (a['anomaly.severity_number'] as number) <= 3)).toBe(true);
    const a = late[late.length - 1]!;
    expect(a['anomaly.reason']).toBe('error_burst');
    expect(a['anomaly.errors.rate']).toBeGreaterThan(0.15);
    expect(a['anomaly.errors.rate']).toBeLessThan(0.5);
    expect(a['anomaly.errors.baseline_rate']).toBeGreaterThan(0.003);
    expect(a['anomaly.errors.baseline_rate']).toBeLessThan(0.025);
    expect(a['anomaly.errors.type']).toBe('PaymentDeclined for [email]');
    expect(a['anomaly.baseline.scope']).toBe('dow_hour');
    expect(a['anomaly.baseline.window']).toBe('Mon 09:00-10:00 UTC');
    // The history has the same numbers.
    const [record] = d.history({ limit: 1 });
    expect(record).toMatchObject({
      detector: 'errors',
      reason: 'error_burst',
      errorType: 'PaymentDeclined for [email]',
    });
    expect(record!.errorRate).toBeGreaterThan(0.15);
    // Successful spans of the burst are not the error detector's.
  });

  it('tags a sustained 10% burst over 1% at 90 calls a minute SEV3 or worse from its first errors on, and no longer than two minutes after its end', () => {
    // Its own random source: the same draws whichever tests ran before.
    const own = new Random(5);
    const orders = (share: number) => () => {
      const failed = own.next() < share;
      return {
        name: 'POST /orders',
        durationMs: failed ? 2 : own.latency(120, 0.2),
        status: failed ? 2 : 0,
      };
    };
    play(d, clock, LEARN_FROM, 100, 90, orders(0.01));
    const burst = play(d, clock, TEST_AT, 10, 90, orders(0.1));
    const after = play(d, clock, TEST_AT + 10 * MIN, 8, 90, orders(0.01));
    const errors = burst.filter((s) => failed(s.span));
    const sev3 = errors.filter(
      (s) =>
        s.span.attributes['anomaly.detector'] === 'errors' &&
        (s.span.attributes['anomaly.severity_number'] as number) <= 3,
    );
    // About nine errors a minute where 0.9 are usual: no window of a minute or less holds enough
    // of them to be that rare before its fifth or so; the CUSUM accumulates them from the start.
    expect(errors.length).toBeGreaterThan(60);
    expect(sev3.length).toBeGreaterThanOrEqual(errors.length * 0.9);
    expect(after.filter((s) => s.minute >= 2 && failed(s.span)).length).toBeGreaterThan(0);
    // SEV3 or worse ends within two minutes (the CUSUM is capped one error above SEV1).
    expect(
      taggedBy(after, 'errors').filter(
        (s) => s.minute >= 2 && (s.span.attributes['anomaly.severity_number'] as number) <= 3,
      ),
    ).toEqual([]);
  });

  it('calls a first error of an operation that never fails SEV4 at most, and a run of them worse', () => {
    const health = (fail: (m: number, i: number) => boolean) => (m: number, i: number) => ({
      name: 'GET /health',
      durationMs: 3,
      status: fail(m, i) ? 2 : 0,
    });
    play(
      d,
      clock,
      LEARN_FROM,
      100,
      60,
      health(() => false),
    );
    const first = play(
      d,
      clock,
      TEST_AT,
      1,
      60,
      health((_m, i) => i === 30),
    );
    const one = first.find((s) => s.span.attributes['anomaly.detector'] === 'errors');
    if (one) expect(one.span.attributes['anomaly.severity_number']).toBeGreaterThanOrEqual(4);
    const run = play(
      d,
      clock,
      TEST_AT + 5 * MIN,
      1,
      60,
      health((_m, i) => i >= 20 && i < 30),
    );
    const worst = Math.min(
      ...taggedBy(run, 'errors').map((s) => s.span.attributes['anomaly.severity_number'] as number),
    );
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('counts 5xx of HTTP server spans without a status as errors, not 4xx', () => {
    const api = (code: (m: number, i: number) => number) => (m: number, i: number) => ({
      name: 'GET',
      kind: 2,
      durationMs: 5,
      attributes: { 'http.route': '/api', 'http.response.status_code': code(m, i) },
    });
    play(
      d,
      clock,
      LEARN_FROM,
      100,
      60,
      api(() => 200),
    );
    const notFound = play(
      d,
      clock,
      TEST_AT,
      2,
      60,
      api((_m, i) => (i % 2 ? 404 : 200)),
    );
    expect(taggedBy(notFound, 'errors')).toEqual([]);
    const unavailable = play(
      d,
      clock,
      TEST_AT + 5 * MIN,
      2,
      60,
      api((_m, i) => (i % 2 ? 503 : 200)),
    );
    const tagged = taggedBy(unavailable, 'errors');
    expect(tagged.length).toBeGreaterThan(40);
    expect(tagged[tagged.length - 1]!.span.attributes['anomaly.errors.type']).toBe('HTTP 503');
  });

  it('gives a span both slow and failing the worse verdict, each detector keeping its numbers', async () => {
    play(d, clock, LEARN_FROM, 100, 60, pay(0.01));
    await d.recalculate();
    // A fast-failing burst, then a failing span 100x slower than usual inside it.
    const burst = play(d, clock, TEST_AT, 1, 60, (m, i) =>
      i === 59 ? { name: 'POST /pay', durationMs: 8000, status: 2 } : pay(0.5)(m, i),
    );
    const slow = burst[burst.length - 1]!.span;
    const a = slow.attributes;
    expect(a['anomaly.detector']).toMatch(/^(latency|errors)$/);
    expect(a['anomaly.baseline.mean_ms']).toBeGreaterThan(50);
    expect(a['anomaly.errors.rate']).toBeGreaterThan(0.2);
    // No attribute twice.
    expect(new Set(slow.attributeKeys).size).toBe(slow.attributeKeys.length);
    const record = d.history({ limit: 500 }).find((x) => x.durationMs === 8000)!;
    expect(record.severity).toBe(a['anomaly.severity_number']);
    expect(record.errorRate).toBe(a['anomaly.errors.rate']);
  });

  it('gives a span the error detector judges worse than latency each attribute once: the verdict, its score and window, and the latency baseline', async () => {
    play(d, clock, LEARN_FROM, 100, 60, pay(0.01));
    await d.recalculate();
    // A burst of failures 2.5x slower than usual: SEV1 for errors, milder for latency.
    const burst = play(d, clock, TEST_AT, 1, 60, (m, i) =>
      i >= 40 ? { name: 'POST /pay', durationMs: 200, status: 2 } : pay(0.5)(m, i),
    );
    const both = burst
      .slice(40)
      .map((b) => b.span)
      .filter((s) => s.attributes['anomaly.detector'] === 'errors')
      .filter((s) => s.attributes['anomaly.baseline.mean_ms'] !== undefined);
    expect(both.length).toBeGreaterThan(0);
    for (const s of both) {
      expect(s.attributes['anomaly.errors.rate']).toBeGreaterThan(0.2);
      expect(s.attributes['anomaly.baseline.mean_ms']).toBeGreaterThan(50);
      expect(s.attributeKeys.filter((k, i) => s.attributeKeys.indexOf(k) !== i)).toEqual([]);
    }
    const record = d.history({ limit: 500 }).find((x) => x.spanId === both[0]!.spanId)!;
    expect(both[0]!.attributes['anomaly.score']).toBe(record.score);
    expect(both[0]!.attributes['anomaly.baseline.window']).toBe(record.window);
  });

  it('tags nothing for errors with errors.enabled: false', async () => {
    await d.shutdown();
    await start({ errors: { enabled: false } });
    play(d, clock, LEARN_FROM, 100, 60, pay(0.01));
    const burst = play(d, clock, TEST_AT, 2, 60, pay(0.5));
    expect(taggedBy(burst, 'errors')).toEqual([]);
  });

  it('keeps an operation whose every span fails (nothing learned for latency) across daily rolls, with its rate rows', async () => {
    const down = () => ({ name: 'GET /legacy', durationMs: 2, status: 2 });
    play(d, clock, LEARN_FROM, 30, 60, down);
    d.flush();
    for (let day = 1; day <= 3; day++) {
      play(d, clock, LEARN_FROM + day * 24 * H, 10, 60, down);
      d.flush();
      await d.idle();
    }
    expect(d.keys({ operation: 'GET /legacy' })).toHaveLength(1);
    const db = new Database(join(dir, 'hg.db'), { readonly: true });
    const days = db
      .prepare<[], { day: number; spans: number; errors: number }>(
        `SELECT r.day AS day, SUM(r.err_spans) AS spans, SUM(r.errors) AS errors
         FROM rate_stats r JOIN keys k ON k.id = r.key_id
         WHERE k.operation = 'GET /legacy' GROUP BY r.day ORDER BY r.day`,
      )
      .all();
    db.close();
    // Every day's failures are still there, under the key the model knows.
    expect(days).toHaveLength(4);
    for (const row of days) {
      expect(row.spans).toBeGreaterThan(0);
      expect(row.errors).toBe(row.spans);
    }
  });

  it('keeps the error baselines across a restart', async () => {
    play(d, clock, LEARN_FROM, 100, 60, pay(0.01));
    d.flush();
    await d.shutdown();
    await start();
    const burst = play(d, clock, TEST_AT, 2, 60, pay(0.4));
    const tagged = taggedBy(burst, 'errors');
    expect(tagged.length).toBeGreaterThan(20);
    const a = tagged[tagged.length - 1]!.span.attributes;
    expect(a['anomaly.errors.baseline_rate']).toBeLessThan(0.025);
  });
});
