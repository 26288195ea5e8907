import { describe, expect, it } from 'vitest';
import { otlpTypes } from '../../src/otlp/proto.js';
import { indexFromLayout, indexSpans } from '../../src/otlp/trace-index.js';
import { validateRequest } from '../../src/otlp/validate.js';
import { makePayloads } from '../../bench/throughput/payloads.js';
import { decodeSpans, traceRequest } from '../detectors/helpers/traces.js';

describe('indexSpans', () => {
  it('reads names and services exactly, however often they repeat (names are interned)', () => {
    const names = ['GET /cart', 'GET /carT', 'Über-Größe 🚀', 'x'.repeat(300), '', 'GET /cart'];
    const bytes = traceRequest(
      names.flatMap((name, i) =>
        Array.from({ length: 3 }, (_, j) => ({
          service: j === 0 ? 'checkout' : 'zahlung-ü',
          name,
          startMs: 1_700_000_000_000 + i,
          durationMs: 1 + j,
        })),
      ),
    );
    for (let round = 0; round < 2; round++) {
      const index = indexSpans(bytes);
      const reference = decodeSpans(bytes);
      // Names beyond MAX_NAME_BYTES (256) are cut and marked; the others are read exactly.
      expect(index.spans.map((s) => s.name)).toEqual(
        reference.map((s) => (s.name.length > 256 ? `${'x'.repeat(256)}…` : s.name)),
      );
      expect(index.spans.map((s) => index.resources[s.resource]!.serviceName)).toEqual(
        reference.map((s) => s.service),
      );
    }
    // The same name decoded twice is the same string.
    const [a, b] = [indexSpans(bytes), indexSpans(bytes)];
    expect(a.spans[0]!.name).toBe(b.spans[0]!.name);
  });

  it('bounds names and services: cut at a character boundary within 256 bytes, marked', () => {
    const long = `${'a'.repeat(255)}ü${'b'.repeat(1 << 20)}`; // ü's two bytes straddle byte 256
    const bytes = traceRequest([
      { service: `svc-${'€'.repeat(200)}`, name: long, startMs: 1_700_000_000_000, durationMs: 1 },
    ]);
    const index = indexSpans(bytes);
    expect(index.spans[0]!.name).toBe(`${'a'.repeat(255)}…`);
    expect(index.resources[0]!.serviceName).toBe(`svc-${'€'.repeat(84)}…`);
    expect(Buffer.byteLength(index.resources[0]!.serviceName)).toBeLessThanOrEqual(256 + 3);
  });

  it('keeps the interning cache bounded', () => {
    for (let i = 0; i < 20_000; i++) {
      const bytes = traceRequest([{ name: `op-${i}`, startMs: 1_700_000_000_000, durationMs: 1 }]);
      expect(indexSpans(bytes).spans[0]!.name).toBe(`op-${i}`);
    }
  });
});

describe('indexFromLayout (the offsets the receiver records while validating)', () => {
  const viaLayout = (bytes: Uint8Array) => {
    const { layout } = validateRequest('traces', bytes, { layout: true });
    expect(layout).toBeDefined();
    return indexFromLayout(layout!);
  };

  it('gives the same index as a scan, on requests made by the OpenTelemetry SDK', () => {
    const payloads = makePayloads(4, 64);
    for (const bytes of payloads.proto) {
      const scanned = indexSpans(bytes);
      expect(scanned.spans.length).toBe(64);
      expect(viaLayout(bytes)).toEqual(scanned);
    }
  });

  it('gives the same index on every kind, status, parent and several services per request', () => {
    const bytes = traceRequest(
      Array.from({ length: 40 }, (_, i) => ({
        service: ['cart', 'checkout', 'payment'][i % 3],
        name: `op ${i % 7}`,
        kind: i % 6,
        status: i % 3,
        startMs: 1_700_000_000_000 + i * 1.5,
        durationMs: 0.25 + i,
        attributes: { 'http.route': `/r/${i}` },
      })),
    );
    const scanned = indexSpans(bytes);
    expect(scanned.resources.length).toBe(3);
    expect(viaLayout(bytes)).toEqual(scanned);
  });

  it('notes the spans that carry anomaly.* attributes (tagged before), by scan and by layout alike', () => {
    const attributes: Record<string, string>[] = [
      { 'http.route': '/a' },
      { 'http.route': '/a', 'anomaly.severity': 'SEV2' },
      { 'anomaly.reason': 'slow_span', 'user.id': 'u' },
      { anomaly: 'not ours', 'anomaly_x.y': 'nor this', note: 'anomaly.severity in a value' },
      {},
    ];
    const bytes = traceRequest(
      attributes.map((a, i) => ({
        name: 'op',
        startMs: 1_700_000_000_000 + i,
        durationMs: 1,
        attributes: a,
      })),
    );
    const scanned = indexSpans(bytes);
    expect(scanned.spans.map((s) => s.anomalyAttributes)).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
    expect(viaLayout(bytes)).toEqual(scanned);
  });

  it('gives the same index on sparse spans, a resource without service.name, none at all, and unknown fields', () => {
    const Request = otlpTypes().traceRequest;
    const span = (extra: Record<string, unknown>) => ({
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.alloc(8, 2),
      ...extra,
    });
    const message = Request.fromObject({
      resourceSpans: [
        { scopeSpans: [{ spans: [span({}), span({ name: 'only a name' })] }] },
        {
          resource: { attributes: [{ key: 'host.name', value: { stringValue: 'h' } }] },
          scopeSpans: [
            { spans: [span({ kind: 3, startTimeUnixNano: '1700000000000000000' })] },
            {
              spans: [
                span({
                  name: 'timed',
                  parentSpanId: Buffer.alloc(8, 3),
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000123456789',
                  status: { code: 2, message: 'boom' },
                }),
              ],
            },
          ],
        },
      ],
    });
    const encoded = Request.encode(message).finish();
    // The same spans, each followed by an unknown field (number 99, varint 1) and a second span
    // wrapped by hand, as a newer SDK might send: both skip the field.
    const Span = otlpTypes().root.lookupType('opentelemetry.proto.trace.v1.Span');
    const unknown = Buffer.from([0x98, 0x06, 0x01]);
    const len = (field: number, body: Uint8Array) => {
      const out = [(field << 3) | 2];
      for (let n = body.length; ; n >>>= 7) {
        if (n < 0x80) {
          out.push(n);
          break;
        }
        out.push((n & 0x7f) | 0x80);
      }
      return Buffer.concat([Buffer.from(out), body]);
    };
    const spanBytes = Buffer.concat([
      Span.encode(Span.fromObject(span({ name: 'newer', kind: 2 }))).finish(),
      unknown,
    ]);
    const extended = Buffer.concat([
      encoded,
      len(1, len(2, Buffer.concat([len(2, spanBytes), unknown]))),
    ]);
    for (const b of [encoded, extended]) {
      const scanned = indexSpans(b);
      expect(scanned.spans.map((s) => s.name)).toEqual(
        ['', 'only a name', '', 'timed', 'newer'].slice(0, b === encoded ? 4 : 5),
      );
      expect(scanned.resources.map((r) => r.serviceName)).toEqual(
        ['unknown_service', 'unknown_service', 'unknown_service'].slice(0, b === encoded ? 2 : 3),
      );
      expect(scanned.spans[3]).toMatchObject({ parentSpanIdAt: expect.any(Number), statusCode: 2 });
      expect(viaLayout(b)).toEqual(scanned);
    }
  });

  it('is not recorded unless asked for, nor for other signals', () => {
    const bytes = traceRequest([{ name: 'x', startMs: 1_700_000_000_000, durationMs: 1 }]);
    expect(validateRequest('traces', bytes).layout).toBeUndefined();
    expect(validateRequest('logs', new Uint8Array(0), { layout: true }).layout).toBeUndefined();
  });
});
