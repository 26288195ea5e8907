import { describe, expect, it } from 'vitest';
import { analyseTrace, unionWithin } from '../../src/analysis/origin.js';
import { decodeSpan, type SpanInfo } from '../../src/otlp/span-decode.js';
import { indexSpans } from '../../src/otlp/trace-index.js';
import {
  checkoutTrace,
  encodeTrace,
  spanIdOf,
  T0,
  traceIdOf,
  type TestSpan,
} from '../connectors/llm-summary/trace-data.js';

/** The spans of a request as the exporter decodes what it held. */
function decoded(spans: readonly TestSpan[]): SpanInfo[] {
  const bytes = encodeTrace(spans);
  const index = indexSpans(bytes);
  return index.spans.map((s) =>
    decodeSpan(bytes.subarray(s.start, s.end), index.resources[s.resource]!.serviceName),
  );
}

const interval = (startMs: number, durationMs: number) =>
  ({ startMs, endMs: startMs + durationMs }) as SpanInfo;

describe('origin of a slow trace', () => {
  it('decodes ids, times, status and typed attributes of a held span', () => {
    const [span] = decoded([
      {
        service: 'payments',
        name: 'POST /charge',
        traceId: traceIdOf(7),
        spanId: spanIdOf(8),
        parentSpanId: spanIdOf(9),
        startMs: T0,
        durationMs: 12.5,
        status: { code: 2, message: 'card declined' },
        attributes: { 'http.route': '/charge', retries: 2, ratio: 0.25, cached: false },
        anomaly: { severity: 2, meanMs: 5, stddevMs: 1 },
      },
    ]);
    expect(span).toMatchObject({
      service: 'payments',
      traceId: traceIdOf(7),
      spanId: spanIdOf(8),
      parentSpanId: spanIdOf(9),
      name: 'POST /charge',
      kind: 2,
      startMs: T0,
      durationMs: 12.5,
      statusCode: 2,
      statusMessage: 'card declined',
    });
    expect(Object.fromEntries(span!.attributes)).toMatchObject({
      'http.route': '/charge',
      retries: 2,
      ratio: 0.25,
      cached: false,
      'anomaly.severity_number': 2,
      'anomaly.baseline.mean_ms': 5,
    });
  });

  it('exclusive time subtracts the union of the children, clipped to the span', () => {
    // [0,10] and [5,20] overlap: 20; [30,40] adds 10; [95,120] is clipped to [95,100]: 5.
    const kids = [interval(0, 10), interval(5, 15), interval(30, 10), interval(95, 25)];
    expect(unionWithin(kids, 0, 100)).toBe(35);
    expect(unionWithin([], 0, 100)).toBe(0);
    expect(unionWithin([interval(200, 10)], 0, 100)).toBe(0);
  });

  it('a downstream slowdown makes its callers anomalous too: the origin is the downstream span', () => {
    const a = analyseTrace(
      decoded(checkoutTrace(1, 500, { frontend: 1, client: 1, payments: 1 })),
    )!;
    expect(a.origin.span.service).toBe('payments');
    expect(a.origin.span.name).toBe('POST /charge');
    expect(a.origin.excessMs).toBeCloseTo(500, 3);
    expect(a.origin.exclusiveMs).toBeCloseTo(520, 3); // 550 minus the 30 ms database call
    expect(a.origin.expectedExclusiveMs).toBeCloseTo(20, 3);
    expect(a.origin.sigma).toBeCloseTo(100, 3); // 500 ms against a 5 ms standard deviation
    expect(a.chain.map((s) => `${s.span.service} ${s.span.name}`)).toEqual([
      'frontend GET /checkout',
      'frontend POST /charge',
      'payments POST /charge',
    ]);
    // The callers' own time is as expected.
    for (const caller of a.chain.slice(0, 2)) expect(Math.abs(caller.excessMs)).toBeLessThan(1e-6);
    expect(a.anchor).toBe(a.origin);
    expect(a.siblings).toEqual([]);
    expect(a.anomalies).toHaveLength(3);
  });

  it('finds the origin when only the callers were tagged and the callee was held untagged', () => {
    // payments is slow but has no baseline yet (not tagged): its excess cannot be measured, the
    // deepest tagged span (the client call to it) is the closest origin.
    const a = analyseTrace(decoded(checkoutTrace(2, 400, { frontend: 2, client: 2 })))!;
    expect(`${a.origin.span.service} ${a.origin.span.name}`).toBe('frontend POST /charge');
    expect(a.anchor).toBe(a.origin);
  });

  it('a caller whose callee was never traced is its own origin', () => {
    const spans = checkoutTrace(3, 300, { frontend: 2, client: 1 }).slice(0, 2);
    const a = analyseTrace(decoded(spans))!;
    expect(`${a.origin.span.service} ${a.origin.span.name}`).toBe('frontend POST /charge');
    expect(a.origin.excessMs).toBeCloseTo(300, 3);
  });

  it('parallel children: the expected cover follows their overlap, siblings are reported', () => {
    const traceId = traceIdOf(4);
    const root = spanIdOf(40);
    const spans: TestSpan[] = [
      {
        service: 'api',
        name: 'GET /home',
        traceId,
        spanId: root,
        startMs: T0,
        durationMs: 320,
        anomaly: { severity: 2, meanMs: 170, stddevMs: 10 },
      },
      // Two calls in parallel, both normally 100 ms; "recs" took 300 ms (tagged), "ads" 100.
      {
        service: 'recs',
        name: 'GET /recs',
        traceId,
        spanId: spanIdOf(41),
        parentSpanId: root,
        startMs: T0 + 10,
        durationMs: 300,
        anomaly: { severity: 1, meanMs: 100, stddevMs: 10 },
      },
      {
        service: 'ads',
        name: 'GET /ads',
        traceId,
        spanId: spanIdOf(42),
        parentSpanId: root,
        startMs: T0 + 10,
        durationMs: 100,
      },
      // An unrelated slow span elsewhere in the trace.
      {
        service: 'audit',
        name: 'write',
        traceId,
        spanId: spanIdOf(43),
        parentSpanId: root,
        startMs: T0 + 310,
        durationMs: 8,
        anomaly: { severity: 4, meanMs: 2, stddevMs: 1 },
      },
    ];
    const a = analyseTrace(decoded(spans))!;
    expect(a.origin.span.service).toBe('recs');
    expect(a.origin.excessMs).toBeCloseTo(200, 3);
    const home = a.spans.find((s) => s.span.name === 'GET /home')!;
    // cover: [10,310] plus [310,318] = 308; sum of children 408; expected cover 202 * 308/408.
    expect(home.exclusiveMs).toBeCloseTo(12, 3);
    expect(home.expectedExclusiveMs).toBeCloseTo(170 - (202 * 308) / 408, 3);
    expect(a.siblings.map((s) => s.span.service)).toEqual(['audit']);
    expect(a.anomalies.map((s) => s.span.service)).toEqual(['recs', 'api', 'audit']);
  });

  it('ignores duplicate spans and parent cycles; no tagged span means no analysis', () => {
    const spans = checkoutTrace(5, 500, { payments: 1 });
    const twice = decoded([...spans, ...spans]);
    const a = analyseTrace(twice)!;
    expect(a.spans).toHaveLength(4);
    const cyclic = decoded([
      {
        service: 'a',
        name: 'x',
        traceId: traceIdOf(6),
        spanId: spanIdOf(61),
        parentSpanId: spanIdOf(62),
        startMs: T0,
        durationMs: 50,
        anomaly: { severity: 1, meanMs: 5, stddevMs: 1 },
      },
      {
        service: 'b',
        name: 'y',
        traceId: traceIdOf(6),
        spanId: spanIdOf(62),
        parentSpanId: spanIdOf(61),
        startMs: T0,
        durationMs: 50,
        anomaly: { severity: 1, meanMs: 5, stddevMs: 1 },
      },
    ]);
    expect(analyseTrace(cyclic)!.chain.length).toBeLessThanOrEqual(2);
    expect(analyseTrace(decoded(checkoutTrace(7, 0)))).toBeUndefined();
  });
});
