import { describe, expect, it } from 'vitest';
import { incidentBreakdown } from '../../../bench/detection/score/incident-breakdown.js';
import { IncidentLog, incidentFigures } from '../../../bench/detection/score/incidents.js';
import type { Schedule } from '../../../bench/detection/sim/faults.js';
import { makeFleet } from '../../../bench/detection/sim/fleet.js';
import { DAY, HOUR } from '../../../bench/detection/sim/seasonality.js';
import type { SimSpan } from '../../../bench/detection/sim/traffic.js';
import type { IncidentView } from '../../../src/detectors/anomaly/incidents/incident.js';

const EVAL = Date.UTC(2026, 0, 19);
const END = EVAL + 7 * DAY;

function view(id: string, openedAt: number, service: string, peer: string | null = null) {
  return {
    id,
    openedAt,
    origin: { service, operation: 'op', peerService: peer },
    services: [{ service, count: 3 }],
  } as unknown as IncidentView;
}

describe('bench:detection incidents', () => {
  it('matches incidents to latency faults, and counts the rest on clean time per day per 15 services', () => {
    const fleet = makeFleet(1, 0.12);
    const leaf = fleet.ops.findIndex(
      (o) => fleet.callers[o.index]!.length > 0 && o.calls.length === 0,
    );
    const op = fleet.ops[leaf]!;
    const from = EVAL + DAY;
    const schedule: Schedule = {
      faults: [{ id: 0, kind: 'step', op: leaf, from, to: from + HOUR, factor: 5 }],
      mondayProbes: [],
      sundayProbes: [],
    };
    let now = 0;
    const log = new IncidentLog(() => now);
    const hear = (v: IncidentView, at: number) => {
      now = at;
      log.hear({ type: 'opened', incident: v });
    };
    // The fault's first positive span, tagged, ends 10 s in; its incident opens 12 s in and is
    // notified then; a second one opens 30 minutes in; one opens on clean time, one before the
    // evaluation weeks (not counted), one in the fault's calm-down hour on another service.
    log.span(
      {
        fault: 0,
        factor: 5,
        durationMs: 500,
        startMs: from + 9_500,
        probe: 0,
        error: false,
      } as SimSpan,
      2,
    );
    log.span(
      {
        fault: 0,
        factor: 5,
        durationMs: 500,
        startMs: from + 500,
        probe: 0,
        error: false,
      } as SimSpan,
      0,
    );
    hear(view('a', from + 12_000, op.service), from + 12_000);
    hear(view('b', from + 30 * 60_000, 'elsewhere', op.service), from + 30 * 60_000);
    hear(view('c', EVAL + 3 * DAY, 'elsewhere'), EVAL + 3 * DAY);
    hear(view('d', EVAL - DAY, 'elsewhere'), EVAL - DAY);
    hear(view('e', from + 90 * 60_000, 'elsewhere'), from + 90 * 60_000);
    const f = incidentFigures(log, fleet, schedule, EVAL, END);
    expect(f.faults).toMatchObject([
      { incidents: 2, originService: true, toIncidentS: 2, toNotificationS: 2 },
    ]);
    expect(f).toMatchObject({ latencyFaults: 1, detected: 1, perDetectedFault: 2, originRight: 1 });
    expect(f.clean).toBe(1);
    expect(f.nearFaults).toBe(1);
    // Seven days less the fault's two hours (with its calm-down).
    expect(f.cleanDays).toBeCloseTo(7 - 2 / 24, 9);
    const services = new Set(fleet.ops.map((o) => o.service)).size;
    expect(f.cleanPerDayPer15).toBeCloseTo((1 / (7 - 2 / 24)) * (15 / services), 9);
  });
});

describe('bench:detection incident breakdown', () => {
  const full = (
    id: string,
    openedAt: number,
    o: { reason: string; opened: number; minutes: number | null; operation?: string },
  ) =>
    ({
      id,
      openedAt,
      resolvedAt: o.minutes === null ? null : openedAt + o.minutes * 60_000,
      reason: o.reason,
      severity: 1,
      timeline: [{ at: openedAt, severity: o.opened }],
      spans: 4,
      samples: [],
      origin: { service: 'shop', operation: o.operation ?? 'op', peerService: null },
      services: [{ service: 'shop', count: 4 }],
    }) as unknown as IncidentView;

  it('names the rule that opened each clean incident, and how a fault came to have several', () => {
    const fleet = makeFleet(1, 0.12);
    const leaf = fleet.ops.findIndex((o) => o.service !== 'shop');
    const from = EVAL + DAY;
    const schedule: Schedule = {
      faults: [{ id: 0, kind: 'step', op: leaf, from, to: from + HOUR, factor: 5 }],
      mondayProbes: [],
      sundayProbes: [],
    };
    const service = fleet.ops[leaf]!.service;
    const log = new IncidentLog(() => 0);
    const add = (v: IncidentView) => log.hear({ type: 'resolved', incident: v });
    // Clean time: a SEV1 span, a level's SEV3, the same origin's level again 10 minutes after it
    // resolved, and five SEV3 tags of a minute.
    add(full('s1', EVAL + 2 * DAY, { reason: 'slow_span', opened: 1, minutes: 5 }));
    add(full('l1', EVAL + 3 * DAY, { reason: 'slow_operation', opened: 3, minutes: 6 }));
    add(
      full('l2', EVAL + 3 * DAY + 16 * 60_000, { reason: 'slow_operation', opened: 3, minutes: 8 }),
    );
    add(full('f1', EVAL + 4 * DAY, { reason: 'slow_span', opened: 3, minutes: 5, operation: 'x' }));
    // The fault: one incident, a second while it is open, a third 2 minutes after both resolved.
    const on = (v: IncidentView) =>
      ({
        ...v,
        services: [{ service, count: 4 }],
        origin: { ...v.origin!, service },
      }) as IncidentView;
    add(on(full('a', from + 60_000, { reason: 'slow_operation', opened: 2, minutes: 10 })));
    add(on(full('b', from + 5 * 60_000, { reason: 'slow_span', opened: 1, minutes: 7 })));
    add(on(full('c', from + 14 * 60_000, { reason: 'slow_operation', opened: 3, minutes: null })));
    const figures = incidentFigures(log, fleet, schedule, EVAL, END);
    expect(figures.faults[0]!.ids).toEqual(['a', 'b', 'c']);
    const b = incidentBreakdown(log, figures, () => ({ kind: 'step', target: 't', from }));
    expect(b.clean).toEqual([
      {
        rule: 'SEV1 span',
        incidents: 1,
        openedAs: [1, 0, 0, 0, 0],
        medianMinutes: 5,
        medianSpans: 4,
        soonAfterSameOrigin: 0,
        soonAfterSameService: 0,
      },
      {
        rule: 'five SEV<=3 tags in 1 min',
        incidents: 1,
        openedAs: [0, 0, 1, 0, 0],
        medianMinutes: 5,
        medianSpans: 4,
        soonAfterSameOrigin: 0,
        // shop's previous incident (l2) resolved a day earlier.
        soonAfterSameService: 0,
      },
      {
        rule: 'slow_operation SEV<=3',
        incidents: 2,
        openedAs: [0, 0, 2, 0, 0],
        medianMinutes: 6,
        medianSpans: 4,
        soonAfterSameOrigin: 1,
        soonAfterSameService: 1,
      },
    ]);
    expect(b.cleanIncidents.find((l) => l.id === 'l2')!.afterSameOriginMin).toBe(10);
    expect(b.faults).toHaveLength(1);
    expect(b.faults[0]!.incidents.map((l) => l.rule)).toEqual([
      'slow_operation SEV<=3',
      'SEV1 span',
      'slow_operation SEV<=3',
    ]);
    // b opened while a was open; c 2 minutes after b (the later of the two) resolved.
    expect(b.repeats).toEqual({
      count: 2,
      soonAfterSameOrigin: 1,
      soonAfterSameService: 1,
      whilePreviousOpen: 1,
      medianGapMin: 2,
    });
  });
});
