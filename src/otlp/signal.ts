/** The three OTLP signals, each a pipeline type and an export request type. */
export type Signal = 'traces' | 'metrics' | 'logs';

export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** The item name used in logs and metric names for each signal, as the Collector names them. */
export const ITEM_NAME: Readonly<Record<Signal, string>> = {
  traces: 'spans',
  metrics: 'metric_points',
  logs: 'log_records',
};
