import { severityName } from '../internal/severity.js';
import type { IncidentView } from './incident.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * An incident as JSON: what the admin API serves (console/src/incident-model.ts reads this shape)
 * and what the generic webhook of `incident_notifier` posts.
 */
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
    resolution: v.resolution ?? (v.resolvedAt === null ? null : 'quiet'),
    held: v.held
      ? {
          since: iso(v.held.since),
          readings: v.held.readings,
          slower_by: v.held.slowerBy === null ? null : Math.round(v.held.slowerBy * 100) / 100,
        }
      : null,
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
      ...(jaegerUiUrl
        ? { jaeger_url: `${jaegerUiUrl}/trace/${s.traceId}?uiFind=${s.spanId}` }
        : {}),
    })),
    summary: v.summary && { text: v.summary.text, anomaly_id: v.summary.anomalyId },
    spans: v.spans,
  };
}
