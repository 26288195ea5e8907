/**
 * Which metrics the summaries read, and how a value is taken from each (OpenTelemetry semantic
 * conventions, old and new names, plus the Prometheus names a Prometheus receiver forwards).
 * Everything else a service sends is ignored.
 */

/** The readings a summary shows per service. */
export type Reading =
  'cpu' | 'memory' | 'request_rate' | 'error_rate' | 'latency_p50' | 'latency_p95' | 'latency_p99';

export const READINGS: readonly Reading[] = [
  'cpu',
  'memory',
  'request_rate',
  'error_rate',
  'latency_p50',
  'latency_p95',
  'latency_p99',
];

/** How a metric becomes a reading. */
export type Extraction =
  /** A 0..1 utilization gauge: percent. */
  | { readonly kind: 'ratio'; readonly reading: 'cpu' | 'memory' }
  /** A cumulative or delta sum of CPU seconds: its rate, in percent of one core. */
  | { readonly kind: 'cpu_seconds'; readonly reading: 'cpu' }
  /** A gauge or sum of bytes in use. */
  | { readonly kind: 'bytes'; readonly reading: 'memory' }
  /** A server duration histogram: request rate, error rate and latency percentiles. */
  | { readonly kind: 'server_duration' };

const TABLE: Record<string, Extraction> = {
  'process.cpu.utilization': { kind: 'ratio', reading: 'cpu' },
  'system.cpu.utilization': { kind: 'ratio', reading: 'cpu' },
  'container.cpu.utilization': { kind: 'ratio', reading: 'cpu' },
  'k8s.pod.cpu.utilization': { kind: 'ratio', reading: 'cpu' },
  'jvm.cpu.recent_utilization': { kind: 'ratio', reading: 'cpu' },
  'process.runtime.jvm.cpu.utilization': { kind: 'ratio', reading: 'cpu' },
  'process.cpu.time': { kind: 'cpu_seconds', reading: 'cpu' },
  'container.cpu.time': { kind: 'cpu_seconds', reading: 'cpu' },
  process_cpu_seconds_total: { kind: 'cpu_seconds', reading: 'cpu' },
  'process.memory.usage': { kind: 'bytes', reading: 'memory' },
  'container.memory.usage': { kind: 'bytes', reading: 'memory' },
  'container.memory.working_set': { kind: 'bytes', reading: 'memory' },
  'k8s.pod.memory.usage': { kind: 'bytes', reading: 'memory' },
  'jvm.memory.used': { kind: 'bytes', reading: 'memory' },
  'process.runtime.jvm.memory.usage': { kind: 'bytes', reading: 'memory' },
  'v8js.memory.heap.used': { kind: 'bytes', reading: 'memory' },
  process_resident_memory_bytes: { kind: 'bytes', reading: 'memory' },
  'system.memory.utilization': { kind: 'ratio', reading: 'memory' },
  'http.server.request.duration': { kind: 'server_duration' },
  'http.server.duration': { kind: 'server_duration' },
  'rpc.server.duration': { kind: 'server_duration' },
};

export function extractionOf(metricName: string): Extraction | undefined {
  return TABLE[metricName];
}

/** Point attributes marking a CPU or memory state that is not "in use". */
const IDLE_STATES = new Set(['idle', 'free', 'cached', 'buffered', 'slab_reclaimable', 'inactive']);
const STATE_KEYS = [
  'cpu.mode',
  'state',
  'system.cpu.state',
  'system.memory.state',
  'process.cpu.state',
];

export type PointAttributes = ReadonlyMap<string, string | number | boolean>;

/** False for points of an idle CPU mode or a free memory state (not part of what is used). */
export function inUse(attrs: PointAttributes): boolean {
  for (const k of STATE_KEYS) {
    const v = attrs.get(k);
    if (typeof v === 'string' && IDLE_STATES.has(v)) return false;
  }
  return true;
}

/** The CPU a per-CPU point is for, when it says (to average over CPUs rather than add up). */
export function cpuOf(attrs: PointAttributes): string | undefined {
  const v =
    attrs.get('cpu') ?? attrs.get('cpu.logical_number') ?? attrs.get('system.cpu.logical_number');
  return v === undefined ? undefined : String(v);
}

/** True when a server duration point counts failed requests. */
export function isError(attrs: PointAttributes): boolean {
  const status = attrs.get('http.response.status_code') ?? attrs.get('http.status_code');
  if (status !== undefined && Number(status) >= 500) return true;
  if (attrs.has('error.type')) return true;
  const grpc = attrs.get('rpc.grpc.status_code');
  return grpc !== undefined && Number(grpc) !== 0;
}

/** Milliseconds per unit of a duration histogram. */
export function msPerUnit(unit: string): number {
  if (unit === 's') return 1000;
  if (unit === 'us') return 0.001;
  if (unit === 'ns') return 1e-6;
  return 1; // ms, or unspecified (the old conventions used ms)
}
