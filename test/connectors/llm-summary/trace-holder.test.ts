import { describe, expect, it } from 'vitest';
import { decodeSpan } from '../../../src/otlp/span-decode.js';
import {
  TraceHolder,
  type HeldTrace,
  type HolderLimits,
} from '../../../src/connectors/llm-summary/internal/holding/trace-holder.js';
import { checkoutTrace, encodeTrace, traceIdOf } from './trace-data.js';

const LIMITS: HolderLimits = {
  windowMs: 10_000,
  minSeverity: 3,
  maxTraces: 100,
  maxSpansPerTrace: 100,
  maxBytes: 1 << 20,
};

const names = (t: HeldTrace) =>
  t.spans.map((s) => `${s.service} ${decodeSpan(s.bytes, s.service).name}`).sort();

describe('holding anomalous traces', () => {
  it('keeps the spans of a trace with an anomaly for the window, and nothing else', () => {
    const h = new TraceHolder(LIMITS);
    h.add(encodeTrace(checkoutTrace(1, 0)), 0); // a normal trace: nothing held
    expect(h.size).toBe(0);
    const [root, call, pay, db] = checkoutTrace(2, 500, { payments: 2, client: 2, frontend: 1 });
    const other = checkoutTrace(3, 0);
    h.add(encodeTrace([db!, pay!, ...other]), 1_000); // payments first: opens the trace
    h.add(encodeTrace([call!, root!, ...other]), 4_000); // the callers, from another service
    expect(h.size).toBe(1);
    expect(h.due(10_999)).toEqual([]);
    const [trace] = h.due(11_000);
    expect(trace!.traceId).toBe(traceIdOf(2));
    expect(trace!.severity).toBe(1);
    expect(names(trace!)).toEqual([
      'frontend GET /checkout',
      'frontend POST /charge',
      'payments POST /charge',
      'payments SELECT payments',
    ]);
    expect(h.size).toBe(0);
    expect(h.bytes).toBe(0);
  });

  it('copies the spans it keeps: the batch itself is not retained', () => {
    const h = new TraceHolder(LIMITS);
    const batch = encodeTrace(checkoutTrace(4, 500, { payments: 1 }));
    h.add(batch, 0);
    const [trace] = h.drain();
    for (const s of trace!.spans) expect(s.bytes.buffer).not.toBe(batch.buffer);
  });

  it('keeps tagged spans below min_severity a while, and adds them when their trace opens', () => {
    const h = new TraceHolder(LIMITS);
    const [root, call, pay, db] = checkoutTrace(5, 500, { payments: 4, client: 2 });
    h.add(encodeTrace([db!, pay!]), 0); // SEV4: below SEV3, kept aside (its child is not)
    expect(h.size).toBe(0);
    h.add(encodeTrace([call!, root!]), 2_000); // SEV2 opens the trace
    const [trace] = h.due(12_000);
    expect(names(trace!)).toEqual([
      'frontend GET /checkout',
      'frontend POST /charge',
      'payments POST /charge',
    ]);
  });

  it('forgets spans kept aside once their window has passed', () => {
    const h = new TraceHolder(LIMITS);
    const [root, call, pay] = checkoutTrace(6, 500, { payments: 4, client: 2 });
    h.add(encodeTrace([pay!]), 0);
    expect(h.bytes).toBeGreaterThan(0);
    h.due(10_000);
    expect(h.bytes).toBe(0);
    h.add(encodeTrace([call!, root!]), 10_500);
    expect(names(h.drain()[0]!)).toEqual(['frontend GET /checkout', 'frontend POST /charge']);
  });

  it('is not fooled by the key appearing in an attribute value', () => {
    const h = new TraceHolder(LIMITS);
    const [root] = checkoutTrace(7, 0);
    h.add(encodeTrace([{ ...root!, attributes: { note: 'anomaly.severity_number=1' } }]), 0);
    expect(h.size).toBe(0);
  });

  it('bounds traces, spans per trace and bytes, and counts what it drops', () => {
    const h = new TraceHolder({ ...LIMITS, maxTraces: 2, maxSpansPerTrace: 3 });
    for (let n = 10; n < 13; n++) h.add(encodeTrace(checkoutTrace(n, 500, { payments: 1 })), 0);
    expect(h.size).toBe(2);
    expect(h.dropped.traces_limit).toBe(1);
    expect(h.dropped.spans_limit).toBe(2); // 4 spans each, 3 kept
    const small = new TraceHolder({ ...LIMITS, maxBytes: 400 });
    small.add(encodeTrace(checkoutTrace(20, 500, { payments: 1 })), 0);
    expect(small.bytes).toBeLessThanOrEqual(400);
    expect(small.dropped.bytes_limit).toBeGreaterThan(0);
  });

  it('does not open a trace again for a late anomaly once it was handed on', () => {
    const h = new TraceHolder(LIMITS);
    const spans = checkoutTrace(30, 500, { payments: 1, frontend: 1 });
    h.add(encodeTrace([spans[2]!]), 0);
    expect(h.due(10_000)).toHaveLength(1);
    h.add(encodeTrace([spans[0]!]), 15_000);
    expect(h.size).toBe(0);
    expect(h.dropped.late).toBe(1);
  });

  it('hands traces on in the order they were opened', () => {
    const h = new TraceHolder(LIMITS);
    h.add(encodeTrace(checkoutTrace(40, 500, { payments: 1 })), 0);
    h.add(encodeTrace(checkoutTrace(41, 500, { payments: 1 })), 3_000);
    expect(h.due(10_000).map((t) => t.traceId)).toEqual([traceIdOf(40)]);
    expect(h.due(13_000).map((t) => t.traceId)).toEqual([traceIdOf(41)]);
  });
});
