import { describe, expect, it } from 'vitest';
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
