import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../../src/detectors/anomaly/incidents/incident.js';
import { scoreIncidents } from '../../../src/detectors/anomaly/replay/incident-score.js';
import type { ReplayRun } from '../../../src/detectors/anomaly/replay/replay.js';
import { SpanTable } from '../../../src/detectors/anomaly/replay/span-table.js';

const AT = Date.UTC(2022, 7, 22, 7, 26, 48);

function incident(id: string, openedAt: number, origin: IncidentView['origin']): IncidentView {
  return {
    id,
    status: 'resolved',
    severity: 2,
    openedAt,
    updatedAt: openedAt,
    resolvedAt: openedAt + 60_000,
    reason: 'slow_operation',
    origin,
    services: [{ service: 'frontend', count: 10 }],
    operations: [],
    timeline: [{ at: openedAt, severity: 2 }],
    samples: [],
    summary: null,
    spans: 10,
  };
}

describe('incident scoring', () => {
  it('counts the call edge into a CPU-starved service as naming it, as for a network delay', () => {
    const faults = [
      {
        at: AT,
        pod: 'shippingservice-1',
        service: 'shippingservice',
        type: 'cpu_contention',
        latency: true,
      },
      {
        at: AT + 600_000,
        pod: 'cartservice-1',
        service: 'cartservice',
        type: 'network_delay',
        latency: true,
      },
      {
        at: AT + 1_200_000,
        pod: 'adservice-1',
        service: 'adservice',
        type: 'cpu_contention',
        latency: true,
      },
    ];
    const edge = (peer: string) => ({ service: 'frontend', operation: 'Call', peerService: peer });
    const incidents = [
      incident('a', AT + 7_000, edge('shippingservice')),
      incident('b', AT + 600_000 + 5_000, edge('cartservice')),
      // Blames frontend's own call, not adservice: wrong.
      incident('c', AT + 1_200_000 + 5_000, {
        service: 'frontend',
        operation: 'Call',
        peerService: null,
      }),
    ];
    incidents[2] = { ...incidents[2]!, services: [{ service: 'adservice', count: 3 }] };
    const run = {
      stream: { table: new SpanTable() },
      incidents,
      notifiedAt: new Map([
        ['a', AT + 7_000],
        ['b', AT + 605_000],
      ]),
    } as unknown as ReplayRun;
    const labels = {
      label: new Uint8Array(0),
      fault: new Int32Array(0),
      leftOut: { near: 0, pod: 0, callers: 0 },
    };
    const s = scoreIncidents(run, faults, labels, 1);
    expect(s.faults.map((f) => f.originCorrect)).toEqual([true, true, false]);
    expect(s.originAccuracy).toBeCloseTo(2 / 3);
    expect(s.unmatched).toBe(0);
  });
});
