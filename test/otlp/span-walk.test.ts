import { describe, expect, it } from 'vitest';
import { traceIdOffset, walkSpans } from '../../src/otlp/span-walk.js';
import { ProtoWriter, WIRE_LEN } from '../../src/otlp/wire.js';
import { hexAt, indexSpans } from '../../src/otlp/trace-index.js';
import { traceRequest } from '../helpers/spans.js';
import { checkoutTrace, encodeTrace } from '../connectors/llm-summary/trace-data.js';

describe('header-only span walk', () => {
  it('finds the same spans, resources and trace ids as the full index', () => {
    for (const bytes of [
      encodeTrace(checkoutTrace(1, 500, { payments: 1 })),
      traceRequest(50, 'cart'),
    ]) {
      const index = indexSpans(bytes);
      const w = walkSpans(bytes);
      expect(w.starts).toEqual(index.spans.map((s) => s.start));
      expect(w.ends).toEqual(index.spans.map((s) => s.end));
      expect(w.resource.map((r) => w.service(r))).toEqual(
        index.spans.map((s) => index.resources[s.resource]!.serviceName),
      );
      expect(w.starts.map((s, i) => hexAt(bytes, traceIdOffset(bytes, s, w.ends[i]!), 16))).toEqual(
        index.spans.map((s) => hexAt(bytes, s.traceIdAt, 16)),
      );
    }
  });

  it('finds a trace id that is not the first field, and none when it is missing or malformed', () => {
    const span = (fields: (w: ProtoWriter) => void) => {
      const w = new ProtoWriter();
      fields(w);
      return w.finish();
    };
    const id = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const late = span((w) => w.tag(5, WIRE_LEN).string('GET /').tag(1, WIRE_LEN).bytes(id));
    expect(hexAt(late, traceIdOffset(late, 0, late.length), 16)).toBe(id.toString('hex'));
    const none = span((w) => w.tag(5, WIRE_LEN).string('GET /'));
    expect(traceIdOffset(none, 0, none.length)).toBe(-1);
    const short = span((w) => w.tag(1, WIRE_LEN).bytes(id.subarray(0, 8)));
    expect(traceIdOffset(short, 0, short.length)).toBe(-1);
  });
});
