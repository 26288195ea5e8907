import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { standaloneDetector } from '../helpers/detector.js';
import { Random } from '../helpers/random.js';
import { decodeSpans, traceRequest, wholeNanos } from '../helpers/traces.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;

/** Why a span was tagged, on the span and in the history: a slow span, or a slow operation. */
describe('anomaly.reason', () => {
  let dir: string;
  let d: AnomalyDetector;
  const r = new Random(7);
  let at = MONDAY + 9 * H;

  beforeEach(async () => {
    at = MONDAY + 9 * H;
    dir = mkdtempSync(join(tmpdir(), 'hourglass-reason-'));
    d = await standaloneDetector(join(dir, 'hg.db'), {}, new FakeClock(MONDAY + 12 * H));
    // A call of about 100 ms with a 0.3 log-spread: its thresholds, then its level's.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++) send(Array.from({ length: 500 }, () => r.latency(100, 0.3)));
      await d.recalculate();
    }
  });
  afterEach(async () => {
    await d.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  function send(durations: number[]) {
    const spans = durations.map((ms) => ({
      name: 'GET /cart',
      // The level's 2,500 spans span more than LEVEL_MIN_SPAN_MS (level.ts).
      startMs: (at += 300),
      durationMs: wholeNanos(ms),
    }));
    const scored = d.score(traceRequest(spans));
    d.accept(scored);
    return decodeSpans(scored.bytes).map((s) => s.attributes);
  }

  it('says slow_span for one span rare on its own, without an operation ratio', () => {
    const [a] = send([3000]);
    expect(a!['anomaly.severity_number']).toBeLessThanOrEqual(2);
    expect(a!['anomaly.reason']).toBe('slow_span');
    expect(a!['anomaly.operation.ratio']).toBeUndefined();
  });

  it('says slow_operation, with how much slower the operation is, for a 1.2x span of a 3x slowdown', () => {
    send(Array.from({ length: 40 }, () => r.latency(300, 0.3)));
    const [a] = send([120]);
    expect(a!['anomaly.ratio']).toBeLessThan(1.5);
    expect(a!['anomaly.severity_number']).toBeLessThanOrEqual(3);
    expect(a!['anomaly.reason']).toBe('slow_operation');
    expect(a!['anomaly.operation.ratio']).toBeGreaterThan(2);
    expect(a!['anomaly.operation.ratio']).toBeLessThan(4.5);
    const [record] = d.history({ limit: 1 });
    expect(record).toMatchObject({ reason: 'slow_operation', durationMs: 120 });
    expect(record!.operationRatio).toBe(a!['anomaly.operation.ratio']);
  });
});
