import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/otlp/validate.js';
import { ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../../src/otlp/wire.js';
import { traceRequest } from '../helpers/spans.js';

const TRACE_ID = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
const SPAN_ID = Buffer.from('0102030405060708', 'hex');

/** request { resource_spans { scope_spans { spans: each } } } */
function request(...spans: Array<(w: ProtoWriter) => void>): Uint8Array {
  const w = new ProtoWriter();
  w.fork().fork();
  for (const span of spans) {
    w.fork();
    span(w);
    w.join(2);
  }
  w.join(2).join(1);
  return w.finish();
}

const goodSpan = (w: ProtoWriter) => {
  w.tag(1, WIRE_LEN)
    .bytes(TRACE_ID)
    .tag(2, WIRE_LEN)
    .bytes(SPAN_ID)
    .tag(5, WIRE_LEN)
    .string('GET /');
  w.tag(7, WIRE_I64)
    .fixed64(1_700_000_000_000_000_000)
    .tag(8, WIRE_I64)
    .fixed64(1_700_000_000_100_000_000);
};

describe('validateRequest', () => {
  it('accepts what the OpenTelemetry SDK serializes and counts its spans', () => {
    const bytes = traceRequest(50);
    expect(validateRequest('traces', bytes)).toEqual({
      items: 50,
      rejected: [],
      rejectedReason: undefined,
    });
  });

  it('skips unknown fields of every wire type, as protobuf requires', () => {
    const bytes = request((w) => {
      goodSpan(w);
      w.tag(100, WIRE_VARINT)
        .varint(7)
        .tag(101, WIRE_LEN)
        .string('future')
        .tag(102, WIRE_I64)
        .fixed64(1);
    });
    expect(validateRequest('traces', bytes).items).toBe(1);
  });

  it.each([
    [
      'a truncated message',
      (b: Uint8Array) => b.subarray(0, b.length - 3),
      'resource_spans[0]: length runs past the end of its message',
    ],
    [
      'a varint longer than 10 bytes',
      () => Buffer.from([0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      'varint longer than 10 bytes',
    ],
    ['field number 0', () => Buffer.from([0x02, 0x00]), 'field number 0 is invalid'],
    ['wire type 3 (groups)', () => Buffer.from([0x2b]), 'invalid wire type 3'],
    [
      'a message field sent as a varint',
      () => Buffer.from([0x08, 0x01]),
      "resource_spans[0]: wire type 0 does not match the field's type opentelemetry.proto.trace.v1.ResourceSpans",
    ],
  ])('rejects %s with its path', (_name, make, message) => {
    expect(() => validateRequest('traces', make(traceRequest(2)))).toThrow(message);
  });

  it('rejects invalid UTF-8 in a string, naming the field', () => {
    const bytes = request(goodSpan, (w) => {
      goodSpan(w);
      w.tag(5, WIRE_LEN).bytes(Buffer.from([0x47, 0xc3, 0x28]));
    });
    expect(() => validateRequest('traces', bytes)).toThrow(
      'resource_spans[0].scope_spans[0].spans[1].name: invalid UTF-8 in a string field',
    );
  });

  it('rejects attribute values nested deeper than 64 levels', () => {
    // AnyValue { array_value { values: AnyValue { array_value { ... } } } }
    const depth = 200;
    let inner: Uint8Array = new ProtoWriter().tag(1, WIRE_LEN).string('leaf').finish();
    for (let i = 0; i < depth; i++) {
      const array = new ProtoWriter().tag(1, WIRE_LEN).bytes(inner).finish();
      inner = new ProtoWriter().tag(5, WIRE_LEN).bytes(array).finish();
    }
    const bytes = request((w) => {
      goodSpan(w);
      w.fork().tag(1, WIRE_LEN).string('deep').tag(2, WIRE_LEN).bytes(inner).join(9);
    });
    expect(() => validateRequest('traces', bytes)).toThrow('messages nested deeper than 64 levels');
  });

  it('rejects only the spans whose ids are invalid and says why', () => {
    const bytes = request(
      goodSpan,
      (w) => w.tag(1, WIRE_LEN).bytes(TRACE_ID.subarray(0, 15)).tag(2, WIRE_LEN).bytes(SPAN_ID),
      (w) => w.tag(1, WIRE_LEN).bytes(Buffer.alloc(16)).tag(2, WIRE_LEN).bytes(SPAN_ID),
      (w) => w.tag(1, WIRE_LEN).bytes(TRACE_ID),
      goodSpan,
    );
    const result = validateRequest('traces', bytes);
    expect(result.items).toBe(5);
    expect(result.rejected).toHaveLength(3);
    expect(result.rejectedReason).toBe('trace_id has 15 bytes, expected 16');
  });

  it('fails a whole metrics request with an invalid exemplar id (metrics cannot be cut apart)', () => {
    // request { resource_metrics { scope_metrics { metrics { gauge { data_points { exemplars { span_id: 3 bytes } } } } } } }
    const w = new ProtoWriter();
    w.fork().fork().fork().tag(1, WIRE_LEN).string('cpu').fork().fork();
    w.fork()
      .tag(4, WIRE_LEN)
      .bytes(Buffer.from([1, 2, 3]))
      .join(5);
    w.join(1).join(5).join(2).join(2).join(1);
    expect(() => validateRequest('metrics', w.finish())).toThrow(
      'resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].exemplars[0].span_id: has 3 bytes, expected 8',
    );
  });
});
