import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../../src/component/consumer.js';
import { FanOut, fanOut } from '../../../src/pipeline/fanout.js';
import { jsonToProto } from '../../../src/otlp/json-decode.js';
import { protoToJson } from '../../../src/otlp/json-encode.js';
import { indexFromLayout, indexSpans } from '../../../src/otlp/trace-index.js';
import { decodeRequest } from '../../../src/receiver/otlp/decode.js';
import { traceRequest } from '../../detectors/helpers/traces.js';

const spans = Array.from({ length: 5 }, (_, i) => ({
  name: `op ${i}`,
  startMs: 1_700_000_000_000 + i,
  durationMs: 1 + i,
}));

describe('decodeRequest', () => {
  it('hands detection the layout of a trace request, for the bytes it forwards', () => {
    const body = traceRequest(spans);
    const { batch } = decodeRequest('traces', body, 'proto', true);
    expect(batch.layout?.bytes).toBe(batch.bytes);
    expect(indexFromLayout(batch.layout!)).toEqual(indexSpans(batch.bytes));
  });

  it('does so for OTLP/JSON too, on the protobuf it was converted to', () => {
    const json = JSON.stringify(protoToJson('traces', traceRequest(spans)));
    const { batch } = decodeRequest('traces', Buffer.from(json), 'json', true);
    expect(batch.items).toBe(5);
    expect(batch.layout?.bytes).toBe(batch.bytes);
    expect(indexFromLayout(batch.layout!)).toEqual(indexSpans(batch.bytes));
    expect(jsonToProto('traces', json)).toEqual(batch.bytes);
  });

  it('leaves it out when spans were cut from the request (the offsets would be wrong)', () => {
    const body = traceRequest([...spans, { ...spans[0]!, traceId: '0'.repeat(32) }]);
    const decoded = decodeRequest('traces', body, 'proto', true);
    expect(decoded.rejected).toBe(1);
    expect(decoded.batch.items).toBe(5);
    expect(decoded.batch.layout).toBeUndefined();
  });

  it('records none unless the pipeline reads it', () => {
    expect(decodeRequest('traces', traceRequest(spans), 'proto').batch.layout).toBeUndefined();
  });

  it('is wanted when any pipeline fed by the receiver reads it', () => {
    const plain: Consumer = { consume: async () => {} };
    const reader: Consumer = { consume: async () => {}, readsSpanLayout: () => true };
    expect(fanOut([plain]).readsSpanLayout?.() ?? false).toBe(false);
    expect(new FanOut([plain, plain]).readsSpanLayout()).toBe(false);
    expect(new FanOut([plain, reader]).readsSpanLayout()).toBe(true);
  });

  it('records none for metrics and logs', () => {
    expect(decodeRequest('logs', new Uint8Array(0), 'proto', true).batch.layout).toBeUndefined();
  });
});
