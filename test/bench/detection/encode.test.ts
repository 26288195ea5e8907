import { describe, expect, it } from 'vitest';
import { RequestEncoder, msToNanos } from '../../../bench/detection/otlp/encode.js';
import { readSeverities } from '../../../bench/detection/otlp/verdicts.js';
import { makeFleet } from '../../../bench/detection/sim/fleet.js';
import type { SimSpan } from '../../../bench/detection/sim/traffic.js';
import type { AnomalyRecord } from '../../../src/detectors/anomaly/internal/anomaly-record.js';
import { windowLabels } from '../../../src/detectors/anomaly/internal/slots.js';
import { AttributeEncoder } from '../../../src/detectors/anomaly/internal/tagger.js';
import { rewriteItems } from '../../../src/otlp/rewrite.js';
import { indexSpans } from '../../../src/otlp/trace-index.js';
import { decodeReference } from '../../helpers/reference-decoder.js';

const fleet = makeFleet(1, 0.1);
const T0 = Date.UTC(2026, 0, 5, 9, 30, 0, 123);

function span(op: number, spanId: number, extra: Partial<SimSpan> = {}): SimSpan {
  return {
    op,
    traceId: 7,
    spanId,
    parentId: 0,
    startMs: T0,
    durationMs: 12.345678,
    error: false,
    factor: 1,
    fault: -1,
    probe: 0,
    ...extra,
  };
}

describe('detection benchmark: OTLP encoding of simulated spans', () => {
  it('encodes a valid request, one resource per service, with exact ids and times', () => {
    const cart = fleet.ops.findIndex((o) => o.service === 'cart' && o.name === 'redis HSET');
    const root = fleet.ops.findIndex((o) => o.service === 'frontend' && o.name === 'POST /cart');
    const spans = [
      span(cart, 41, { parentId: 40, durationMs: 0.731 }),
      span(root, 40, { error: true, durationMs: 1234.5 }),
    ];
    const bytes = new RequestEncoder(fleet).encode(spans);
    const decoded = decodeReference('traces', bytes);
    const services = decoded.resourceSpans.map(
      (rs: any) => rs.resource.attributes[0].value.stringValue,
    );
    expect(services.sort()).toEqual(['cart', 'frontend']);
    const all = decoded.resourceSpans.flatMap((rs: any) => rs.scopeSpans[0].spans);
    const child = all.find((s: any) => s.name === 'redis HSET');
    expect(child.kind).toBe(3);
    expect(Buffer.from(child.spanId, 'base64').toString('hex')).toBe('0000000000000029');
    expect(Buffer.from(child.parentSpanId, 'base64').toString('hex')).toBe('0000000000000028');
    expect(Buffer.from(child.traceId, 'base64').toString('hex')).toBe(`${'0'.repeat(30)}07`);
    expect(BigInt(child.startTimeUnixNano)).toBe(BigInt(T0) * 1_000_000n);
    expect(BigInt(child.endTimeUnixNano) - BigInt(child.startTimeUnixNano)).toBe(731_000n);
    const parent = all.find((s: any) => s.name === 'POST /cart');
    expect(parent.status.code).toBe(2);
    expect(parent.parentSpanId).toBe('');
    // The processor's own scan reads the same durations.
    const index = indexSpans(bytes);
    expect(index.spans.map((s) => s.durationMs).sort((a, b) => a - b)).toEqual([0.731, 1234.5]);
  });

  it('splits ms into exact nanosecond words', () => {
    const [lo, hi] = msToNanos(T0);
    expect(BigInt(hi) * 2n ** 32n + BigInt(lo)).toBe(BigInt(T0) * 1_000_000n);
  });

  it("reads the severities the processor's tagger wrote, by span id", () => {
    const op = fleet.ops.findIndex((o) => o.name === 'GetCart');
    const spans = [span(op, 100), span(op, 101), span(op, 102)];
    const bytes = new RequestEncoder(fleet).encode(spans);
    const index = indexSpans(bytes);
    const tagger = new AttributeEncoder('latency', windowLabels('UTC'));
    const record = { severity: 2, score: 9, ratio: 5, meanMs: 2, stddevMs: 1, p99Ms: 4 };
    const edits = new Map([
      [
        index.spans[1]!.start,
        tagger.encode(
          { ...record, samples: 500, scope: 'dow_hour', reason: 'slow_span' } as AnomalyRecord,
          9,
        ),
      ],
    ]);
    const found: [number, number][] = [];
    readSeverities(rewriteItems(bytes, edits), (id, sev) => found.push([id, sev]));
    expect(found).toEqual([[101, 2]]);
  });
});
