import { describe, expect, it } from 'vitest';
import { rewriteItems } from '../../src/otlp/rewrite.js';
import { indexSpans } from '../../src/otlp/trace-index.js';
import { ProtoWriter, WIRE_LEN } from '../../src/otlp/wire.js';
import { decodeSpans, traceRequest, type SpanSpec } from '../detectors/helpers/traces.js';

/** An encoded Span.attributes entry with a string value. */
function attribute(key: string, value: string): Uint8Array {
  const w = new ProtoWriter(64);
  w.fork().tag(1, WIRE_LEN).string(key).fork().tag(1, WIRE_LEN).string(value).join(2).join(9);
  return w.finish();
}

const spans: SpanSpec[] = Array.from({ length: 30 }, (_, i) => ({
  service: `svc-${i % 3}`,
  name: `op-${i}`,
  startMs: 1_700_000_000_000 + i,
  durationMs: 10 + i,
  attributes: { n: String(i) },
}));

describe('rewriteItems', () => {
  it('returns the input itself when there is nothing to edit', () => {
    const bytes = traceRequest(spans);
    expect(rewriteItems(bytes, new Map())).toBe(bytes);
  });

  it('appends fields to some items, drops others and copies the rest byte for byte', () => {
    const bytes = traceRequest(spans);
    const index = indexSpans(bytes);
    const at = (i: number) => index.spans.find((s) => s.name === `op-${i}`)!.start;
    const edits = new Map<number, Uint8Array | null>();
    // Items of every resource, first and last ones, and neighbours (op-0, op-3, ... are svc-0's).
    for (const i of [0, 1, 3, 16, 29]) edits.set(at(i), attribute('tag', `t${i}`));
    for (const i of [2, 6, 28]) edits.set(at(i), null);
    const out = rewriteItems(bytes, edits);
    const before = decodeSpans(bytes);
    const after = decodeSpans(out);
    const dropped = new Set(['op-2', 'op-6', 'op-28']);
    expect(after.map((s) => s.name)).toEqual(
      before.map((s) => s.name).filter((n) => !dropped.has(n)),
    );
    for (const s of after) {
      const original = before.find((b) => b.name === s.name)!;
      const i = Number(s.name.slice(3));
      if ([0, 1, 3, 16, 29].includes(i)) {
        expect(s.attributes).toEqual({ ...original.attributes, tag: `t${i}` });
        expect(s.attributeKeys).toEqual([...original.attributeKeys, 'tag']);
      } else {
        expect(s).toEqual(original);
      }
    }
    // Unedited spans keep their exact bytes.
    const kept = indexSpans(out);
    const bytesOf = (b: Uint8Array, s: { start: number; end: number }) =>
      Buffer.from(b.subarray(s.start, s.end));
    for (const s of kept.spans) {
      const i = Number(s.name.slice(3));
      if ([0, 1, 3, 16, 29].includes(i)) continue;
      const o = index.spans.find((x) => x.name === s.name)!;
      expect(bytesOf(out, s).equals(bytesOf(bytes, o))).toBe(true);
    }
  });
});
