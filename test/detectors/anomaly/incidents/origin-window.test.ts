import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../../../src/detectors/anomaly/contract.js';
import { IncidentEngine } from '../../../../src/detectors/anomaly/incidents/engine.js';
import { incidentsSchema } from '../../../../src/detectors/anomaly/incidents/config.js';
import { IncidentMetrics } from '../../../../src/detectors/anomaly/incidents/incident-metrics.js';
import { indexSpans } from '../../../../src/otlp/trace-index.js';
import { SelfMetrics } from '../../../../src/telemetry/self-metrics.js';
import { traceRequest, type SpanSpec } from '../../helpers/traces.js';

const T0 = Date.UTC(2026, 0, 12, 12);
const M = 60_000;

/**
 * `origin_window`: the origin is where the fault started. Traces of the incident's first minutes
 * (and of the minutes after it gets worse) blame; later ones join with a token weight.
 */
describe('incident engine: origin_window', () => {
  function engine(settings: Record<string, unknown>): IncidentEngine {
    return new IncidentEngine(
      incidentsSchema.parse({
        sev1_confirm_within: '0s',
        sev2_confirm_within: '0s',
        quiet_period: '30m',
        ...settings,
      }),
      new IncidentMetrics(new SelfMetrics({ processMetrics: false }), 'anomaly', 50),
    );
  }

  /**
   * One trace, tagged `severity`, at `ms` after T0: `cart redis HSET` (60 ms, mean 10), alone, or
   * under `recommendation ListRecommendations` (`callerMs`, mean 100): the caller's own excess is
   * its slowdown less the callee's, so it is the trace's origin once it exceeds 50 ms.
   */
  function trace(e: IncidentEngine, n: number, ms: number, severity: number, callerMs?: number) {
    const traceId = n.toString(16).padStart(32, '0');
    const id = (k: number) => (n * 2 + k).toString(16).padStart(16, '0');
    const startMs = T0 + ms - 200;
    const specs: SpanSpec[] = [
      { service: 'cart', name: 'redis HSET', startMs, durationMs: 60, traceId, spanId: id(0) },
    ];
    const means = [10];
    if (callerMs !== undefined) {
      specs[0] = { ...specs[0]!, parentSpanId: id(1) };
      specs.push({
        service: 'recommendation',
        name: 'ListRecommendations',
        startMs,
        durationMs: callerMs,
        traceId,
        spanId: id(1),
      });
      means.push(100);
    }
    const tagged = specs.map((s, span) => ({
      span,
      record: {
        id: `${traceId}-${s.spanId}`,
        traceId,
        spanId: s.spanId,
        service: s.service,
        operation: s.name,
        kind: 2,
        startMs: s.startMs,
        durationMs: s.durationMs,
        severity,
        reason: 'slow_operation',
        meanMs: means[span],
      } as unknown as AnomalyRecord,
    }));
    e.tick(T0 + ms);
    return e.assign(indexSpans(traceRequest(specs)), tagged, T0 + ms)[0];
  }

  const origin = (e: IncidentEngine, id: string | undefined) =>
    e.get(id!, undefined)?.origin?.service;

  it('keeps the origin its first minutes blamed; a worse severity opens the window again', () => {
    for (const [window, later] of [
      ['0s', 'recommendation'],
      ['2m', 'cart'],
    ] as const) {
      const e = engine({ origin_window: window });
      const id = trace(e, 1, 0, 2);
      for (let k = 1; k <= 3; k++) expect(trace(e, 1 + k, k * 10_000, 2)).toBe(id);
      expect(origin(e, id)).toBe('cart');
      // Ten minutes in, a busy caller's traces (3 s of its own each) join it.
      for (let k = 0; k < 10; k++) expect(trace(e, 10 + k, 10 * M + k * 1_000, 2, 3_000)).toBe(id);
      expect(origin(e, id)).toBe(later);
    }
    // Getting worse is a new notification: its traces blame again.
    const e = engine({ origin_window: '2m' });
    const id = trace(e, 1, 0, 2);
    expect(trace(e, 2, 10 * M, 1, 3_000)).toBe(id);
    expect(origin(e, id)).toBe('recommendation');
  });
});
