import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/component/consumer.js';
import { indexFromLayout, indexSpans } from '../../src/otlp/trace-index.js';
import { validateRequest } from '../../src/otlp/validate.js';
import { ProtoWriter, WIRE_LEN, WIRE_VARINT } from '../../src/otlp/wire.js';
import { logsBatch, metricsBatch } from '../exporters/batches.js';
import { traceRequest } from '../helpers/spans.js';

/**
 * What validation answers 200 must be forwardable to a strict (Go) downstream: packed repeated
 * scalars hold whole values, varints do not overflow 64 bits, tags and lengths fit in 32 bits.
 * One request that breaks these rules, joined into a batch, makes the downstream reject the batch.
 */

/** A histogram data point's body: count, then the packed fields as given. */
function histogramRequest(point: (w: ProtoWriter) => void): Uint8Array {
  // request { resource_metrics { scope_metrics { metrics { name, histogram { data_points } } } } }
  const w = new ProtoWriter();
  w.fork().fork().fork().tag(1, WIRE_LEN).string('http.server.duration').fork().fork();
  point(w);
  w.join(1).join(9).join(2).join(2).join(1);
  return w.finish();
}

/** An exponential histogram data point with `positive.bucket_counts` packed as given. */
function exponentialRequest(packed: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  w.fork().fork().fork().tag(1, WIRE_LEN).string('latency').fork().fork();
  w.fork().tag(2, WIRE_LEN).bytes(packed).join(8); // positive { bucket_counts }
  w.join(1).join(10).join(2).join(2).join(1);
  return w.finish();
}

const POINT_PATH = 'resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[0]';

/** Ten bytes of varint whose last byte holds more than the 64th bit. */
const OVERFLOW = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];

describe('validateRequest, strict as a Go downstream', () => {
  it('accepts packed fields that hold whole values', () => {
    const bytes = histogramRequest((w) => {
      w.tag(6, WIRE_LEN).bytes(Buffer.alloc(24)); // 3 x fixed64
      w.tag(7, WIRE_LEN).bytes(Buffer.alloc(16)); // 2 x double
    });
    expect(validateRequest('metrics', bytes).items).toBe(1);
    expect(
      validateRequest('metrics', exponentialRequest(Buffer.from([1, 0x80, 0x01, 3]))).items,
    ).toBe(1);
  });

  it.each([
    [
      'bucket_counts packed with 7 bytes',
      6,
      7,
      'bucket_counts: packed fixed64 values take 7 bytes, not a multiple of 8',
    ],
    [
      'explicit_bounds packed with 12 bytes',
      7,
      12,
      'explicit_bounds: packed double values take 12 bytes, not a multiple of 8',
    ],
  ])('rejects %s, naming the field', (_name, field, bytes, message) => {
    const request = histogramRequest((w) => w.tag(field, WIRE_LEN).bytes(Buffer.alloc(bytes)));
    expect(() => validateRequest('metrics', request)).toThrow(`${POINT_PATH}.${message}`);
  });

  it('rejects the 53-byte request of issue 17 (bucket_counts of 7 bytes)', () => {
    const request = histogramRequest((w) => {
      w.tag(3, 1).fixed64(1_700_000_000_000_000_000);
      w.tag(6, WIRE_LEN).bytes(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
    });
    expect(() => validateRequest('metrics', request)).toThrow('not a multiple of 8');
  });

  it.each([
    ['a varint cut by the end of the run', [1, 0x80]],
    ['a varint that overflows 64 bits', OVERFLOW],
  ])('rejects packed uint64 bucket counts with %s', (_name, packed) => {
    expect(() => validateRequest('metrics', exponentialRequest(Buffer.from(packed)))).toThrow(
      /positive\.bucket_counts: (truncated varint|varint overflows 64 bits)/,
    );
  });

  const requests: Record<Signal, () => Uint8Array> = {
    traces: () => traceRequest(2),
    metrics: () => metricsBatch(2).bytes,
    logs: () => logsBatch(2).bytes,
  };

  it.each(['traces', 'metrics', 'logs'] as const)(
    'rejects a %s request with a 10-byte varint that overflows 64 bits (an unknown field)',
    (signal) => {
      const good = requests[signal]();
      // An unknown varint field at the top level: skipped by decoders, but it must still parse.
      const bad = Buffer.concat([good, Buffer.from([(99 << 3) | WIRE_VARINT, ...OVERFLOW])]);
      expect(() => validateRequest(signal, bad)).toThrow('varint overflows 64 bits');
      // The same field with a value that fits is fine.
      const fine = Buffer.concat([good, Buffer.from([(99 << 3) | WIRE_VARINT, 0xff, 0x01])]);
      expect(validateRequest(signal, fine).items).toBe(2);
    },
  );

  it("rejects an overflowing varint in a span's own field", () => {
    // Span.kind (6) as a 10-byte varint whose last byte is 2.
    const w = new ProtoWriter();
    w.fork().fork().fork();
    w.tag(1, WIRE_LEN).bytes(Buffer.alloc(16, 1)).tag(2, WIRE_LEN).bytes(Buffer.alloc(8, 1));
    w.tag(6, WIRE_VARINT).raw(Buffer.from(OVERFLOW));
    w.join(2).join(2).join(1);
    expect(() => validateRequest('traces', w.finish())).toThrow(
      'resource_spans[0].scope_spans[0].spans[0].kind: varint overflows 64 bits',
    );
  });

  it.each([
    // A tag whose varint carries bits above 32: read as 32 bits it would be field 1 (resource_spans).
    ['a tag larger than 32 bits', [0x8a, 0x80, 0x80, 0x80, 0x10, 0x00]],
    // A length of 2^32 + 0: read as 32 bits it would be an empty message.
    ['a length larger than 32 bits', [0x0a, 0x80, 0x80, 0x80, 0x80, 0x10]],
  ])('rejects %s', (_name, bytes) => {
    expect(() => validateRequest('traces', Buffer.from(bytes))).toThrow(
      'varint tag or length larger than 32 bits',
    );
  });

  it('accepts non-minimal varints that still fit (protobuf allows them)', () => {
    // resource_spans with a 5-byte length of 0.
    expect(validateRequest('traces', Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x00])).items).toBe(
      0,
    );
  });
});

describe('validateRequest, bounded work on hostile bodies', () => {
  it('refuses a request of millions of empty spans whole instead of recording each one', () => {
    // resource_spans { scope_spans { spans {} x 1,000,000 } }: 2 MB, every span without ids.
    const spans = Buffer.alloc(2_000_000);
    for (let i = 0; i < spans.length; i += 2) spans[i] = 0x12;
    const w = new ProtoWriter();
    w.fork().fork().raw(spans).join(2).join(1);
    expect(() => validateRequest('traces', w.finish(), { layout: true })).toThrow(
      'more than 4096 items with invalid ids (trace_id is missing); the request is refused whole',
    );
  });

  it('still cuts out a few spans with invalid ids (partial success)', () => {
    const w = new ProtoWriter();
    w.fork()
      .fork()
      .raw(Buffer.from([0x12, 0x00, 0x12, 0x00]))
      .join(2)
      .join(1);
    expect(validateRequest('traces', w.finish()).rejected).toHaveLength(2);
  });
});

describe('span layouts of hostile bodies', () => {
  it('records no resource for a ResourceSpans without spans (ten million of them fit in 20 MiB)', () => {
    const empty = Buffer.alloc(2_000_000);
    for (let i = 0; i < empty.length; i += 2) empty[i] = 0x0a; // resource_spans {} x 1,000,000
    const result = validateRequest('traces', empty, { layout: true });
    expect(result.items).toBe(0);
    expect(result.layout!.resources).toEqual([]);
  });

  it('still records the resource of every ResourceSpans that has spans, in order', () => {
    const withSpans = traceRequest(3);
    const bytes = Buffer.concat([Buffer.from([0x0a, 0x00]), withSpans, Buffer.from([0x0a, 0x00])]);
    const layout = validateRequest('traces', bytes, { layout: true }).layout!;
    expect(layout.resources).toHaveLength(2);
    expect(indexFromLayout(layout)).toEqual(indexSpans(bytes));
  });
});
