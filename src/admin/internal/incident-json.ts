import type { IncidentView } from '../../detectors/anomaly/incidents/incident.js';
import { severityName } from '../../detectors/anomaly/contract.js';
import { jaegerTraceUrl } from './anomaly-json.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** An incident as the admin API serves it (console/src/incident-model.ts reads this shape). */
export function incidentJson(
  processor: string,
  v: IncidentView,
  jaegerUiUrl: string | undefined,
): Record<string, unknown> {
  return {
    processor,
    id: v.id,
    status: v.status,
    severity: severityName(v.severity),
    severity_number: v.severity,
    opened_at: iso(v.openedAt),
    updated_at: iso(v.updatedAt),
    resolved_at: v.resolvedAt === null ? null : iso(v.resolvedAt),
    reason: v.reason,
    origin: v.origin && {
      service: v.origin.service,
      operation: v.origin.operation,
      peer_service: v.origin.peerService,
    },
    services: v.services,
    operations: v.operations,
    severity_timeline: v.timeline.map((t) => ({
      at: iso(t.at),
      severity: severityName(t.severity),
    })),
    sample_traces: v.samples.map((s) => ({
      trace_id: s.traceId,
      ...(jaegerUiUrl ? { jaeger_url: jaegerTraceUrl(jaegerUiUrl, s.traceId, s.spanId) } : {}),
    })),
    summary: v.summary && { text: v.summary.text, anomaly_id: v.summary.anomalyId },
    spans: v.spans,
  };
}
