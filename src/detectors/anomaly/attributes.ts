/**
 * The attributes the `anomaly` processor writes on an anomalous span: the names SREs search Jaeger
 * for (`anomaly.severity=SEV1`) and that every reader of tagged spans (the debug exporter, the
 * `llm_summary` exporter, the detection benchmark) relies on. Spelled out here only; DESIGN.md and
 * README.md list them with their meaning. All start with `anomaly.`: tagging a span replaces every
 * such attribute it carries, which the trace index notes as it scans (`isAnomalyKeyValue`).
 */
export const ANOMALY_ATTRIBUTES = {
  severity: 'anomaly.severity',
  severityNumber: 'anomaly.severity_number',
  severityLabel: 'anomaly.severity_label',
  detector: 'anomaly.detector',
  /** Why: `slow_span` or `slow_operation` (REASONS). */
  reason: 'anomaly.reason',
  score: 'anomaly.score',
  ratio: 'anomaly.ratio',
  /**
   * Only with reason `slow_operation`: the operation's current slowdown (its level's ratio to
   * normal; for a short run of slow spans, the least of their ratios to their medians).
   */
  operationRatio: 'anomaly.operation.ratio',
  meanMs: 'anomaly.baseline.mean_ms',
  stddevMs: 'anomaly.baseline.stddev_ms',
  p99Ms: 'anomaly.baseline.p99_ms',
  samples: 'anomaly.baseline.samples',
  scope: 'anomaly.baseline.scope',
  window: 'anomaly.baseline.window',
  /** The incident the span belongs to, while one is open (incidents/README.md). */
  incidentId: 'anomaly.incident_id',
  /** `errors`: the operation's error share now (the window judged) and usually at this hour. */
  errorsRate: 'anomaly.errors.rate',
  errorsBaselineRate: 'anomaly.errors.baseline_rate',
  /** `errors`: the most frequent recent `exception.type` or status message, redacted. */
  errorsType: 'anomaly.errors.type',
  /** `traffic`: spans of the operation in the last minute, usually a minute at this hour, their ratio. */
  trafficRate: 'anomaly.traffic.rate',
  trafficBaselineRate: 'anomaly.traffic.baseline_rate',
  trafficRatio: 'anomaly.traffic.ratio',
} as const;

/**
 * `anomaly.reason`: `slow_span` when the span alone is rare for its bucket (its point thresholds),
 * `slow_operation` when the operation's recent spans together are slower than normal (its level);
 * `error_burst` (detector `errors`), `traffic_surge` and `traffic_drop` (detector `traffic`; a
 * drop has no span, it is only in the anomaly history).
 */
export const REASONS = [
  'slow_span',
  'slow_operation',
  'error_burst',
  'traffic_surge',
  'traffic_drop',
] as const;
export type Reason = (typeof REASONS)[number];
