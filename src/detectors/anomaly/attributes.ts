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
  /** Only with reason `slow_operation`: the operation's current slowdown (its level's ratio to normal). */
  operationRatio: 'anomaly.operation.ratio',
  meanMs: 'anomaly.baseline.mean_ms',
  stddevMs: 'anomaly.baseline.stddev_ms',
  p99Ms: 'anomaly.baseline.p99_ms',
  samples: 'anomaly.baseline.samples',
  scope: 'anomaly.baseline.scope',
  window: 'anomaly.baseline.window',
  /** The incident the span belongs to, while one is open (incidents/README.md). */
  incidentId: 'anomaly.incident_id',
} as const;

/**
 * `anomaly.reason`: `slow_span` when the span alone is rare for its bucket (its point thresholds),
 * `slow_operation` when the operation's recent spans together are slower than normal (its level).
 */
export const REASONS = ['slow_span', 'slow_operation'] as const;
export type Reason = (typeof REASONS)[number];
