export { READINGS } from './metric-readings.js';
export type { Reading } from './metric-readings.js';
export { MetricsWindow } from './metrics-window.js';
export type { ReadingSummary } from './metrics-window.js';
export { DEFAULT_QUERIES, PrometheusSource } from './prometheus.js';
