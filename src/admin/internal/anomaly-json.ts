import {
  severityLabel,
  severityName,
  spanKindName,
  type AnomalyRecord,
} from '../../detectors/anomaly/contract.js';

/** An anomaly as the admin API serves it (history and event stream alike). */
export function anomalyJson(
  r: AnomalyRecord,
  jaegerUiUrl: string | undefined,
): Record<string, unknown> {
  return {
    id: r.id,
    // A traffic drop has no span: null ids, no Jaeger link.
    trace_id: r.traceId === '' ? null : r.traceId,
    span_id: r.spanId === '' ? null : r.spanId,
    service: r.service,
    operation: r.operation,
    kind: spanKindName(r.kind),
    start: new Date(r.startMs).toISOString(),
    duration_ms: r.durationMs,
    severity: severityName(r.severity),
    severity_number: r.severity,
    severity_label: severityLabel(r.severity),
    detector: r.detector,
    reason: r.reason,
    ...(Number.isFinite(r.operationRatio) ? { operation_ratio: r.operationRatio } : {}),
    score: r.score,
    ratio: r.ratio,
    baseline: {
      mean_ms: r.meanMs,
      stddev_ms: r.stddevMs,
      p99_ms: r.p99Ms,
      samples: r.samples,
      scope: r.scope,
      window: r.window,
    },
    ...(r.errorRate !== undefined && {
      errors: {
        rate: r.errorRate,
        baseline_rate: r.baselineErrorRate,
        ...(r.errorType !== undefined && { type: r.errorType }),
      },
    }),
    ...(r.observedRate !== undefined && {
      traffic: {
        per_minute: r.observedRate,
        baseline_per_minute: r.expectedRate,
        ...(r.windowEndMs !== undefined && {
          window: {
            start: new Date(r.startMs).toISOString(),
            end: new Date(r.windowEndMs).toISOString(),
          },
        }),
      },
    }),
    recorded_at: new Date(r.recordedAt).toISOString(),
    summary: r.summary,
    ...(jaegerUiUrl && r.traceId !== ''
      ? { jaeger_url: jaegerTraceUrl(jaegerUiUrl, r.traceId, r.spanId) }
      : {}),
  };
}

/** The Jaeger UI's trace page, with the span highlighted (`uiFind`). */
function jaegerTraceUrl(base: string, traceId: string, spanId: string): string {
  return `${base}/trace/${traceId}?uiFind=${spanId}`;
}
