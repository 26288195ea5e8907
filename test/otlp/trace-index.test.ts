import { describe, expect, it } from 'vitest';
import { indexSpans } from '../../src/otlp/trace-index.js';
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
      expect(index.spans.map((s) => s.name)).toEqual(reference.map((s) => s.name));
      expect(index.spans.map((s) => index.resources[s.resource]!.serviceName)).toEqual(
        reference.map((s) => s.service),
      );
    }
    // The same name decoded twice is the same string.
    const [a, b] = [indexSpans(bytes), indexSpans(bytes)];
    expect(a.spans[0]!.name).toBe(b.spans[0]!.name);
  });

  it('keeps the interning cache bounded', () => {
    for (let i = 0; i < 20_000; i++) {
      const bytes = traceRequest([{ name: `op-${i}`, startMs: 1_700_000_000_000, durationMs: 1 }]);
      expect(indexSpans(bytes).spans[0]!.name).toBe(`op-${i}`);
    }
  });
});
