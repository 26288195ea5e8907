import { capability } from '../../component/capability.js';
import type { AnomalyDetector } from './detector.js';
import type { IncidentSource } from './incidents/incident-source.js';

/**
 * The public face of the `anomaly` processor: what other components (the admin API, llm_summary,
 * the debug exporter, the benchmarks) may import. Everything under `internal/` is its own, and
 * the lint rule in eslint.config.js keeps it so.
 */

/** The attributes written on anomalous spans (the SRE-facing contract of DESIGN.md). */
export { ANOMALY_ATTRIBUTES, REASONS, type Reason } from './attributes.js';

/** Severities: SEV1 (critical) .. SEV5 (low); a severity is its number, 1..5. */
export {
  SEVERITY_LABELS,
  SEVERITY_NAMES,
  parseSeverity,
  severityLabel,
  severityName,
  severitySetting,
  type SeverityName,
} from './internal/severity.js';

/** One tagged span as kept in the anomaly history, and the history's filters. */
export {
  SPAN_KIND_NAMES,
  matches,
  parseSpanKind,
  spanKindName,
  type AnomalyQuery,
  type AnomalyRecord,
} from './internal/anomaly-record.js';

export type { AnomalyListener } from './internal/anomaly-feed.js';
export type { ReplayFilter } from './internal/history-replay.js';
export type { CountQuery, ServiceCounts } from './internal/anomaly-counts.js';
export type { KeyState } from './internal/key-state.js';
export type { BaselineProfile } from './internal/profile.js';
export type { RecalcReport } from './internal/recalculate.js';
export type { AnomalyProcessorConfig } from './config.js';

/**
 * The anomaly history and baselines of one processor id (what the admin API serves): keys and
 * their 168-bucket profiles, tagged spans, counts, recalculation on demand, a live feed.
 */
export type AnomalyHistory = Pick<
  AnomalyDetector,
  | 'config'
  | 'keys'
  | 'profile'
  | 'history'
  | 'counts'
  | 'loadHistory'
  | 'loadCounts'
  | 'recalculate'
  | 'subscribe'
  | 'streamPosition'
  | 'replay'
>;

/** Offered by every `anomaly` processor (`host.lookup(ANOMALY_HISTORY)`). */
export const ANOMALY_HISTORY = capability<AnomalyHistory>('anomaly.history');

/** Where a summarizer hangs the summary of some anomalies (by `<trace id>-<span id>`). */
export interface SummarySink {
  attachSummary(anomalyIds: readonly string[], summary: string): void;
}

/** Offered by every `anomaly` processor: summaries written by `llm_summary` join its history. */
export const SUMMARY_SINK = capability<SummarySink>('anomaly.summary_sink');

export type {
  IncidentChange,
  IncidentChangeType,
  IncidentListener,
  OpenRequest,
} from './incidents/engine.js';
export type { IncidentView, Origin, Resolution } from './incidents/incident.js';
export type { IncidentQuery } from './incidents/incident-store.js';
export type { IncidentSource } from './incidents/incident-source.js';
/** An incident as JSON (the admin API's and the generic webhook's shape). */
export { incidentJson } from './incidents/incident-json.js';

/**
 * The incidents of one `anomaly` processor (`processors.anomaly.incidents`), offered when they are
 * enabled: the admin API serves them, `incident_notifier` notifies them, detectors open them.
 */
export const ANOMALY_INCIDENTS = capability<IncidentSource>('anomaly.incidents');
