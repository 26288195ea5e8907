import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { JoinedBatch } from '../../src/component/consumer.js';
import { joinBatches, partsOf, sizeOf } from '../../src/component/consumer.js';
import { gzipParts } from '../../src/exporters/helper/compression.js';
import { validateRequest } from '../../src/otlp/validate.js';
import { traceRequest } from '../helpers/spans.js';

describe('JoinedBatch', () => {
  const a = { signal: 'traces' as const, bytes: traceRequest(3), items: 3 };
  const b = { signal: 'traces' as const, bytes: traceRequest(4), items: 4 };

  it('keeps parts as they came and concatenates only when bytes are read', () => {
    const joined = joinBatches([a, b]) as JoinedBatch;
    expect(joined.parts).toEqual([a.bytes, b.bytes]);
    expect(joined.parts[0]).toBe(a.bytes); // not copied
    expect([joined.items, sizeOf(joined)]).toEqual([7, a.bytes.length + b.bytes.length]);
    // Concatenated encoded requests are the merged request.
    expect(validateRequest('traces', joined.bytes).items).toBe(7);
    expect(joined.bytes).toBe(joined.bytes); // computed once
  });

  it('flattens nested joins and passes a single batch through', () => {
    const nested = joinBatches([joinBatches([a, b]), a]);
    expect(partsOf(nested)).toEqual([a.bytes, b.bytes, a.bytes]);
    expect(joinBatches([a])).toBe(a);
  });

  it('gzips parts as one stream', async () => {
    const gz = await gzipParts([a.bytes, b.bytes], 1);
    expect(gunzipSync(gz)).toEqual(Buffer.concat([a.bytes, b.bytes]));
  });
});
