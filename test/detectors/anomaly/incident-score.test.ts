import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../../src/detectors/anomaly/incidents/incident.js';
import { unmatchedLine } from '../../../src/detectors/anomaly/replay/format.js';
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

  it('beside the strict reading: the incident the tagged positives carry, opened before the injection or not', () => {
    const faults = [
      { at: AT, pod: 'cart-1', service: 'cartservice', type: 'cpu_contention', latency: true },
      {
        at: AT + 600_000,
        pod: 'ad-1',
        service: 'adservice',
        type: 'cpu_contention',
        latency: true,
      },
    ];
    const cart = { service: 'cartservice', operation: 'GetCart', peerService: null };
    // Open 39 s before the first injection: the strict reading counts it for no fault.
    const early = incident('early', AT - 39_000, cart);
    const wrong = {
      ...incident('wrong', AT + 600_000 + 5_000, { ...cart, service: 'frontend' }),
      services: [{ service: 'adservice', count: 1 }],
    };
    const table = new SpanTable();
    const ids = new Uint8Array(32);
    const at = (ms: number) => BigInt(ms) * 1_000_000n;
    const resource = { service: 'cartservice', pod: 'cart-1' };
    for (const ms of [AT + 1_000, AT + 2_000, AT + 3_000, AT + 600_000 + 6_000]) {
      table.push(at(ms), at(ms + 50), ids, 0, 'GetCart', 2, resource);
    }
    const run = {
      stream: { table },
      // The third positive was not tagged; the first two carry `early`, the fourth `wrong`.
      severity: Uint8Array.from([2, 3, 0, 2]),
      incidents: [early, wrong],
      notifiedAt: new Map(),
      spanIncident: new Map([
        [0, 'early'],
        [1, 'early'],
        [3, 'wrong'],
      ]),
    } as unknown as ReplayRun;
    const labels = {
      label: Uint8Array.from([1, 1, 1, 1]),
      fault: Int32Array.from([0, 0, 0, 1]),
      leftOut: { near: 0, pod: 0, callers: 0 },
    };
    const s = scoreIncidents(run, faults, labels, 1);
    expect(s.faults.map((f) => f.incidents)).toEqual([0, 1]);
    expect(s.faults[0]!.carried).toEqual({
      id: 'early',
      origin: 'cartservice GetCart',
      originCorrect: true,
      openedAfterS: -39,
      spans: 2,
      tagged: 2,
    });
    expect(s.faults[1]!.carried).toMatchObject({ id: 'wrong', originCorrect: false, spans: 1 });
    expect(s.faults[1]!.originCorrect).toBe(false);
    expect([s.carried, s.carriedRight]).toEqual([2, 1]);
  });

  it('classifies the incidents matching no latency fault: a non-latency fault, the aftermath, the minute before, none', () => {
    const fault = (at: number, service: string, type: string) => ({
      at,
      pod: `${service}-1`,
      service,
      type,
      latency: type === 'cpu_contention' || type === 'network_delay',
    });
    const faults = [
      fault(AT, 'cartservice', 'cpu_contention'),
      fault(AT + 600_000, 'adservice', 'exception'),
      fault(AT + 1_800_000, 'currencyservice', 'network_delay'),
    ];
    const on = (service: string) => ({ service, operation: 'GET /', peerService: null });
    const at = (id: string, ms: number, service: string) => ({
      ...incident(id, ms, on(service)),
      services: [{ service, count: 4 }],
    });
    const incidents = [
      at('cart', AT + 5_000, 'cartservice'), // the latency fault's: matched, not classified
      at('ad', AT + 600_000 + 30_000, 'adservice'), // (a) the exception's four minutes, its service
      at('after-ad', AT + 600_000 + 300_000, 'adservice'), // (b) past its four minutes, within eight
      at('beside', AT + 60_000, 'emailservice'), // (b) during the CPU fault, elsewhere
      at('early', AT + 1_800_000 - 20_000, 'frontend'), // (c) the minute before an injection
      at('late', AT + 1_800_000 - 61_000, 'frontend'), // (d) 61 s before an injection, 19 min after one
      at('quiet', AT + 1_800_000 + 480_000, 'frontend'), // (d) eight minutes after: past it
    ];
    incidents[5] = { ...incidents[5]!, reason: 'slow_span', timeline: [{ at: 0, severity: 1 }] };
    const table = new SpanTable();
    const ids = new Uint8Array(32);
    const ns = (ms: number) => BigInt(ms) * 1_000_000n;
    const resource = { service: 'frontend', pod: 'frontend-1' };
    // GET / takes 10 ms, median of the history; `late` carries spans of 30 and 50 ms.
    const history = new SpanTable();
    for (const d of [8, 10, 10, 12, 400]) history.push(ns(0), ns(d), ids, 0, 'GET /', 2, resource);
    for (const d of [30, 50]) table.push(ns(AT), ns(AT + d), ids, 0, 'GET /', 2, resource);
    const run = {
      stream: { table },
      history: { table: history },
      incidents,
      notifiedAt: new Map(),
      spanIncident: new Map([
        [0, 'late'],
        [1, 'late'],
      ]),
    } as unknown as ReplayRun;
    const labels = {
      label: new Uint8Array(2),
      fault: new Int32Array(2).fill(-1),
      leftOut: { near: 0, pod: 0, callers: 0 },
    };
    const s = scoreIncidents(run, faults, labels, 2);
    expect(s.unmatched).toBe(6);
    expect(s.unmatchedPerHour).toBe(3);
    const kinds = Object.fromEntries(s.unmatchedKinds.incidents.map((u) => [u.id, u.kind]));
    expect(kinds).toEqual({
      ad: 'other_fault',
      'after-ad': 'aftermath',
      beside: 'aftermath',
      early: 'before',
      late: 'none',
      quiet: 'none',
    });
    expect(s.unmatchedKinds.counts).toEqual({ other_fault: 1, aftermath: 2, before: 1, none: 2 });
    const late = s.unmatchedKinds.incidents.find((u) => u.id === 'late')!;
    expect(late).toMatchObject({ rule: 'SEV1 span', origin: 'frontend GET /', fault: null });
    expect(late.slowerBy).toEqual({ median: 3, max: 5 });
    expect(unmatchedLine(late)).toBe(
      '(d) none of these: 2022-08-22 07:55:47 SEV1 span, frontend GET /, 10 spans at 3.0x their medians (max 5.0x), 61 s before the next injection',
    );
    const after = s.unmatchedKinds.incidents.find((u) => u.id === 'after-ad')!;
    expect(after).toMatchObject({
      fault: { type: 'exception', service: 'adservice' },
      afterInjectionS: 300,
      nextInjectionS: 900,
      rule: 'slow_operation SEV<=3',
      slowerBy: null,
    });
  });
});
