import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../../../src/detectors/anomaly/contract.js';
import { ChildMemory } from '../../../../src/detectors/anomaly/incidents/child-memory.js';
import { Incident } from '../../../../src/detectors/anomaly/incidents/incident.js';
import {
  groupByTrace,
  type TaggedSpan,
} from '../../../../src/detectors/anomaly/incidents/trace-groups.js';
import { indexSpans } from '../../../../src/otlp/trace-index.js';
import { traceRequest, type SpanSpec } from '../../helpers/traces.js';
import { checkoutTrace, MONDAY } from './traffic.js';

/** Baseline means of the three spans of `checkoutTrace` (payments, checkout's call, checkout). */
const MEAN: Record<string, number> = {
  'payments POST /charge': 55,
  'checkout POST /charge': 60,
  'checkout POST /checkout': 103,
};

/** One request holding `spans`, each tagged SEV2 against its mean. */
function request(spans: readonly SpanSpec[]) {
  const index = indexSpans(traceRequest(spans));
  const tagged: TaggedSpan[] = spans.map((s, span) => ({
    span,
    record: {
      traceId: s.traceId!,
      spanId: s.spanId!,
      service: s.service!,
      operation: s.name,
      kind: s.kind!,
      durationMs: s.durationMs,
      meanMs: MEAN[`${s.service} ${s.name}`]!,
      severity: 2,
      reason: 'slow_span',
    } as unknown as AnomalyRecord,
  }));
  return { index, tagged };
}

describe('trace groups: where the time was lost', () => {
  it('counts a slow child that came in an earlier request as the child of its late parent', () => {
    // A slow callee (payments, 2 s): its server span ends first and reaches the sidecar one
    // request before checkout's spans, as SDKs export each span when it ends.
    const [payments, ...callers] = checkoutTrace(1, MONDAY, { paymentsMs: 2_000 });
    const memory = new ChildMemory(100, 60_000);
    const first = request([payments!]);
    const [g1] = groupByTrace(first.index, first.tagged, memory, MONDAY + 3_000);
    expect(g1!.origin.record.service).toBe('payments');
    expect(memory.size).toBe(1);

    const second = request(callers);
    const [g2] = groupByTrace(second.index, second.tagged, memory, MONDAY + 4_000);
    // checkout's call lasted as long as payments' span: nothing of its own.
    expect(g2!.excessMs).toBeLessThan(10);
    expect(memory.size).toBe(0);
  });

  it('names the call edge when the callee span, no slower than usual, came in an earlier request', () => {
    const spans = checkoutTrace(2, MONDAY, { edgeMs: 1_500 });
    const memory = new ChildMemory(100, 60_000);
    // payments' server span is tagged mildly (it ran as usual); checkout's call lost 1.5 s.
    const first = request([spans[0]!]);
    groupByTrace(first.index, first.tagged, memory, MONDAY + 3_000);
    const second = request(spans.slice(1));
    const [g] = groupByTrace(second.index, second.tagged, memory, MONDAY + 4_000);
    expect(g!.origin.record).toMatchObject({ service: 'checkout', operation: 'POST /charge' });
    expect(g!.peerService).toBe('payments');
  });

  it('names the call edge into a slow callee when the caller waited far longer than it ran', () => {
    // A starved pod: payments' span 400 ms (slow too), checkout's call 1.5 s more than that.
    const { index, tagged } = request(checkoutTrace(3, MONDAY, { paymentsMs: 400, edgeMs: 1_500 }));
    const [g] = groupByTrace(index, tagged);
    expect(g!.origin.record).toMatchObject({ service: 'checkout', operation: 'POST /charge' });
    expect(g!.peerService).toBe('payments');
  });

  it('forgets children whose parent never came, after a minute or beyond its bound', () => {
    const memory = new ChildMemory(2, 60_000);
    memory.remember('t', 'a', 5, 'payments', 0);
    memory.remember('t', 'b', 5, 'payments', 30_000);
    memory.remember('t', 'c', 5, 'payments', 40_000);
    expect(memory.size).toBe(2); // a went first
    expect(memory.take('t', 'a', 40_000)).toBeUndefined();
    memory.expire(95_000);
    expect(memory.size).toBe(1); // b (30 s) expired, c (40 s) kept
    expect(memory.take('t', 'c', 101_000)).toBeUndefined(); // too old by then
  });
});

describe('incident origin', () => {
  it('counts a call site seen without its callee towards the call edge it makes', () => {
    const i = new Incident('inc-x', 0, 2, 'slow_operation');
    const site = { service: 'frontend', operation: 'GetQuote' };
    i.blame({ ...site, peerService: null }, 400);
    i.blame({ service: 'shipping', operation: 'GetQuote', peerService: null }, 500);
    expect(i.origin()).toEqual({ service: 'shipping', operation: 'GetQuote', peerService: null });
    i.blame({ ...site, peerService: 'shipping' }, 300);
    // 400 ms without the callee at hand and 300 with: one call edge, 700 ms.
    expect(i.origin()).toEqual({ ...site, peerService: 'shipping' });
    i.blame({ ...site, peerService: null }, 100);
    expect(i.originWeights()).toEqual(
      expect.arrayContaining([{ origin: { ...site, peerService: 'shipping' }, weight: 800 }]),
    );
    expect(i.originWeights()).toHaveLength(2);
  });

  it('still finds a call edge after other origins made room for new ones (32 at most)', () => {
    const i = new Incident('inc-x', 0, 2, 'slow_operation');
    const site = { service: 'frontend', operation: 'GetQuote' };
    i.blame({ ...site, peerService: 'shipping' }, 1_000);
    for (let k = 0; k < 32; k++)
      i.blame({ service: `s${k}`, operation: 'op', peerService: null }, k);
    expect(i.originWeights()).toHaveLength(32);
    // Evidence without the callee at hand goes to the call edge, which is still there.
    i.blame({ ...site, peerService: null }, 500);
    expect(i.originWeights()).toHaveLength(32);
    expect(i.origin()).toEqual({ ...site, peerService: 'shipping' });
    expect(i.originWeights()).toContainEqual({
      origin: { ...site, peerService: 'shipping' },
      weight: 1_500,
    });
  });
});
