import { describe, expect, it } from 'vitest';
import { makeSchedule, opRate, type Schedule } from '../../../bench/detection/sim/faults.js';
import { makeFleet } from '../../../bench/detection/sim/fleet.js';
import {
  DAY,
  HOUR,
  MINUTE,
  dayOfWeek,
  latencyFactor,
  load,
} from '../../../bench/detection/sim/seasonality.js';
import { Traffic, type SimSpan } from '../../../bench/detection/sim/traffic.js';

const MONDAY = Date.UTC(2026, 0, 5);
const fleet = makeFleet(1, 0.12);

function play(schedule: Schedule, from: number, to: number): SimSpan[] {
  const traffic = new Traffic(fleet, schedule, 1);
  const out: SimSpan[] = [];
  for (let t = from; t < to; t += 10_000) out.push(...traffic.interval(t, t + 10_000));
  return out;
}

describe('detection benchmark: the simulated workload', () => {
  it('has rush hours, quiet nights and quieter weekends, and slower calls when busy', () => {
    expect(dayOfWeek(MONDAY)).toBe(0);
    expect(dayOfWeek(MONDAY + 6 * DAY)).toBe(6);
    const monday9 = load(MONDAY + 9 * HOUR);
    const sunday3 = load(MONDAY + 6 * DAY + 3 * HOUR);
    expect(monday9).toBeGreaterThan(10 * sunday3);
    expect(load(MONDAY + 5 * DAY + 10 * HOUR)).toBeLessThan(load(MONDAY + 10 * HOUR));
    // Smooth: no jump at the hour.
    expect(Math.abs(load(MONDAY + 8 * HOUR - 1) - load(MONDAY + 8 * HOUR))).toBeLessThan(0.001);
    const search = fleet.ops[fleet.seasonalOp]!;
    expect(latencyFactor(search, monday9) / latencyFactor(search, sunday3)).toBeGreaterThan(2);
  });

  it('generates traces whose spans add up, unchanged where no fault is active', () => {
    const spans = play(
      { faults: [], mondayProbes: [], sundayProbes: [] },
      MONDAY + 9 * HOUR,
      MONDAY + 9 * HOUR + 10 * MINUTE,
    );
    expect(spans.length).toBeGreaterThan(1000);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const s of spans) {
      expect(s.durationMs).toBeGreaterThan(0);
      expect(s.factor).toBe(1);
      expect(s.fault).toBe(-1);
      if (s.parentId) {
        const parent = byId.get(s.parentId)!;
        expect(parent.traceId).toBe(s.traceId);
        expect(parent.durationMs).toBeGreaterThan(s.durationMs);
        expect(s.startMs).toBeGreaterThanOrEqual(parent.startMs);
      }
    }
    // Volume follows the entries' rates: about the expected number of root spans of GET /.
    const root = fleet.ops.findIndex((o) => o.name === 'GET /');
    const expected = opRate(fleet, root, MONDAY + 9 * HOUR + 5 * MINUTE) * 10 * MINUTE;
    const roots = spans.filter((s) => s.op === root).length;
    expect(Math.abs(roots - expected)).toBeLessThan(4 * Math.sqrt(expected) + 0.1 * expected);
  });

  it('applies a step fault to its operation and its callers, with the ground truth', () => {
    const op = fleet.ops.findIndex((o) => o.name === 'SELECT products');
    const from = MONDAY + 10 * HOUR;
    const fault = { id: 0, kind: 'step' as const, op, from, to: from + 5 * MINUTE, factor: 5 };
    const spans = play(
      { faults: [fault], mondayProbes: [], sundayProbes: [] },
      from - MINUTE,
      from + 6 * MINUTE,
    );
    const target = spans.filter((s) => s.op === op);
    for (const s of target) {
      const inside = s.startMs >= fault.from && s.startMs < fault.to;
      expect(s.factor).toBeCloseTo(inside ? 5 : 1, 9);
      expect(s.fault).toBe(inside ? 0 : -1);
    }
    const callers = spans.filter((s) => fleet.callers[op]!.includes(s.op) && s.fault === 0);
    expect(callers.length).toBeGreaterThan(0);
    for (const c of callers) expect(c.factor).toBeGreaterThan(1);
  });

  it('schedules every fault after the warm-up, apart from one another and from the probed hours', () => {
    const evalStart = MONDAY + 14 * DAY;
    const end = MONDAY + 35 * DAY;
    const s = makeSchedule(fleet, 1, evalStart, end);
    expect(s.faults.map((f) => f.kind).sort()).toEqual(
      [
        ...Array(12).fill('step'),
        'downstream',
        'downstream',
        'drift',
        'error-burst',
        'error-burst',
        'outage',
        'rush-at-night',
      ].sort(),
    );
    const sorted = [...s.faults].sort((a, b) => a.from - b.from);
    sorted.forEach((f, i) => {
      expect(f.id).toBe(i);
      expect(f.from).toBeGreaterThanOrEqual(evalStart);
      expect(f.to).toBeLessThanOrEqual(end);
      if (i > 0) expect(f.from).toBeGreaterThanOrEqual(sorted[i - 1]!.to);
      if (f.kind === 'step') expect(opRate(fleet, f.op, f.from) * MINUTE).toBeGreaterThanOrEqual(2);
    });
    expect(s.mondayProbes).toHaveLength(3);
    expect(s.sundayProbes).toHaveLength(2);
    const rush = s.faults.find((f) => f.kind === 'rush-at-night')!;
    expect(dayOfWeek(rush.from)).toBe(6);
    expect((rush.from % DAY) / HOUR).toBe(3);
  });
});
