import { describe, expect, it } from 'vitest';
import { EwmaSigma, GlobalSigma } from '../../../bench/detection/detectors/references.js';
import { ladderSeverity } from '../../../bench/detection/detectors/detector.js';
import { cutMetrics, detectorReport, stepRecall } from '../../../bench/detection/score/metrics.js';
import { counts, Tally, truthOf } from '../../../bench/detection/score/tally.js';
import type { Fault, Schedule } from '../../../bench/detection/sim/faults.js';
import { makeFleet } from '../../../bench/detection/sim/fleet.js';
import type { SimSpan } from '../../../bench/detection/sim/traffic.js';

const MIN = 60_000;
const START = Date.UTC(2026, 0, 5);
const fleet = makeFleet(1, 0.1);
const redis = fleet.ops.findIndex((o) => o.name === 'redis HSET');
const cart = fleet.ops.findIndex((o) => o.name === 'AddItem');

function span(extra: Partial<SimSpan>): SimSpan {
  return {
    op: redis,
    traceId: 1,
    spanId: 1,
    parentId: 0,
    startMs: START,
    durationMs: 10,
    error: false,
    factor: 1,
    fault: -1,
    probe: 0,
    ...extra,
  };
}

describe('detection benchmark: ground truth and metrics', () => {
  it('counts a span positive when a fault made it 1.5x and 5 ms slower', () => {
    expect(truthOf(span({ factor: 2, durationMs: 20 }))).toBe('positive'); // +10 ms
    expect(truthOf(span({ factor: 1.5, durationMs: 15 }))).toBe('positive'); // exactly 1.5x, +5 ms
    expect(truthOf(span({ factor: 1.2, durationMs: 60 }))).toBe('ambiguous'); // +10 ms, 1.2x
    expect(truthOf(span({ factor: 5, durationMs: 4 }))).toBe('ambiguous'); // 5x, +3.2 ms
    expect(truthOf(span({}))).toBe('negative');
    expect(truthOf(span({ error: true, factor: 0.2, fault: 0 }))).toBe('negative');
    expect(truthOf(span({ probe: 1 }))).toBe('probe');
  });

  it('computes precision, recall, F1 and false positives per hour from severity counts', () => {
    const positive = counts();
    positive[0] = 10; // missed
    positive[2] = 30; // SEV2
    positive[5] = 60; // SEV5
    const negative = counts();
    negative[0] = 9880;
    negative[3] = 20; // SEV3
    negative[5] = 100;
    const at3 = cutMetrics(positive, negative, 3, 10);
    expect(at3).toMatchObject({ cut: 3, tp: 30, fp: 20, fn: 70, fpPerHour: 2 });
    expect(at3.precision).toBeCloseTo(0.6, 12);
    expect(at3.recall).toBeCloseTo(0.3, 12);
    expect(at3.f1).toBeCloseTo(0.4, 12);
    const at5 = cutMetrics(positive, negative, 5, 10);
    expect(at5).toMatchObject({ tp: 90, fp: 120, fn: 10 });
    // Nothing tagged at all: precision 1 by convention, recall 0, F1 0.
    expect(cutMetrics(positive, negative, 1, 10)).toMatchObject({ precision: 1, recall: 0, f1: 0 });
  });

  it('tallies a fault: recall on its target and callers, first tag, and calibration on clean spans', () => {
    const fault: Fault = {
      id: 0,
      kind: 'step',
      op: redis,
      from: START + 10 * MIN,
      to: START + 20 * MIN,
      factor: 5,
    };
    const schedule: Schedule = { faults: [fault], mondayProbes: [], sundayProbes: [] };
    const tally = new Tally(fleet, schedule, START, START, 1);
    const inFault = (minute: number, extra: Partial<SimSpan> = {}) =>
      span({ startMs: START + minute * MIN, factor: 5, durationMs: 40, fault: 0, ...extra });
    tally.add(inFault(10.5), 0); // missed
    tally.add(inFault(11), 4); // SEV4 at 11:00
    tally.add(inFault(12), 2); // SEV2 at 12:00
    tally.add(inFault(12.5, { op: cart }), 3); // a caller
    tally.add(span({ startMs: START + 25 * MIN }), 3); // after the fault: not clean (within the hour)
    tally.add(span({ startMs: START + 90 * MIN }), 0); // clean
    tally.add(span({ startMs: START + 91 * MIN }), 5); // clean, tagged SEV5
    const report = detectorReport('x', '', tally.data, fleet, 1, 0);
    const f = report.faults[0]!;
    expect(f.targetSpans).toBe(3);
    expect(f.targetRecall[1]).toBeCloseTo(1 / 3, 12); // SEV<=2
    expect(f.targetRecall[4]).toBeCloseTo(2 / 3, 12); // SEV<=5
    expect(f.callerSpans).toBe(1);
    expect(f.firstTagSeconds).toEqual([null, 120, 120, 60, 60]);
    expect(f.firstSpanSeconds).toBe(30);
    expect(f.afterSpans).toBe(1);
    expect(f.afterTagged3).toBe(1);
    expect(report.calibration.spans).toBe(2);
    expect(report.calibration.shares).toEqual([0, 0, 0, 0, 0.5]);
    expect(stepRecall(report, 5, 2)).toMatchObject({ faults: 1, spans: 3, delays: [120] });
  });
});

describe('detection benchmark: reference detectors', () => {
  it('map deviations to the sigma ladder', () => {
    expect([2.9, 3, 4.5, 5, 7, 10, 50].map((z) => ladderSeverity(z))).toEqual([
      0, 5, 4, 3, 2, 1, 1,
    ]);
  });

  it('tag an outlier once warmed up, scoring each span before learning it', async () => {
    for (const detector of [new GlobalSigma(fleet.ops.length), new EwmaSigma(fleet.ops.length)]) {
      const normal = Array.from({ length: 40 }, (_, i) =>
        span({ spanId: i, startMs: START + i * 1000, durationMs: 100 + (i % 5) }),
      );
      const first = await detector.score(normal);
      expect([...first].every((s) => s === 0)).toBe(true);
      const [outlier] = await detector.score([span({ startMs: START + 50_000, durationMs: 1000 })]);
      expect(outlier).toBe(1);
    }
  });
});
