export { BatchQueue } from './batch-queue.js';
export { RecentAnomalies } from './recent-anomalies.js';
export type { ConcurrentAnomalies } from './recent-anomalies.js';
export { TraceHolder } from './trace-holder.js';
export type { HeldTrace } from './trace-holder.js';
