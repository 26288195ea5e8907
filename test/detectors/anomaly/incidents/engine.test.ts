import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../../../src/detectors/anomaly/contract.js';
import { IncidentEngine } from '../../../../src/detectors/anomaly/incidents/engine.js';
import { incidentsSchema } from '../../../../src/detectors/anomaly/incidents/config.js';
import { IncidentMetrics } from '../../../../src/detectors/anomaly/incidents/incident-metrics.js';
import { indexSpans } from '../../../../src/otlp/trace-index.js';
import { SelfMetrics } from '../../../../src/telemetry/self-metrics.js';
import { traceRequest } from '../../helpers/traces.js';

const T0 = Date.UTC(2026, 0, 12, 12);

function engine(): IncidentEngine {
  const config = incidentsSchema.parse({});
  return new IncidentEngine(
    config,
    new IncidentMetrics(new SelfMetrics({ processMetrics: false }), 'anomaly', 50),
  );
}

/** One request holding one span of `payments POST /charge`, tagged with `severity` / `reason`. */
function tagged(n: number, severity: number, reason: string) {
  const traceId = n.toString(16).padStart(32, '0');
  const spanId = n.toString(16).padStart(16, '0');
  const bytes = traceRequest([
    { service: 'payments', name: 'POST /charge', startMs: T0 + n, durationMs: 72, traceId, spanId },
  ]);
  const record = {
    id: `${traceId}-${spanId}`,
    traceId,
    spanId,
    service: 'payments',
    operation: 'POST /charge',
    kind: 2,
    startMs: T0 + n,
    durationMs: 72,
    severity,
    reason,
    meanMs: 55,
  } as unknown as AnomalyRecord;
  return { index: indexSpans(bytes), tagged: [{ span: 0, record }] };
}

describe('incident engine', () => {
  it('opens on the fifth SEV3 tag of an operation within a minute, not before', () => {
    const e = engine();
    for (let n = 1; n <= 4; n++) {
      const t = tagged(n, 3, 'slow_span');
      expect(e.assign(t.index, t.tagged, T0 + n * 10_000)).toEqual([undefined]);
    }
    const t = tagged(5, 3, 'slow_span');
    const [id] = e.assign(t.index, t.tagged, T0 + 50_000);
    expect(id).toMatch(/^inc-/);
    expect(e.openIncidents()).toMatchObject([{ id, severity: 3, reason: 'slow_span' }]);
  });

  it('counts afresh after a minute: four tags, a pause, four more open nothing', () => {
    const e = engine();
    for (let n = 1; n <= 8; n++) {
      const t = tagged(n, 3, 'slow_span');
      const at = T0 + n * 10_000 + (n > 4 ? 60_000 : 0);
      expect(e.assign(t.index, t.tagged, at)).toEqual([undefined]);
    }
    expect(e.openIncidents()).toEqual([]);
  });

  it('opens at once on a SEV1 span, and on a slow operation at SEV3; never on SEV4', () => {
    const e = engine();
    const sev4 = tagged(1, 4, 'slow_operation');
    expect(e.assign(sev4.index, sev4.tagged, T0)).toEqual([undefined]);
    const level = tagged(2, 3, 'slow_operation');
    expect(e.assign(level.index, level.tagged, T0)[0]).toMatch(/^inc-/);
    const other = engine();
    const sev1 = tagged(3, 1, 'slow_span');
    expect(other.assign(sev1.index, sev1.tagged, T0)[0]).toMatch(/^inc-/);
  });
});
