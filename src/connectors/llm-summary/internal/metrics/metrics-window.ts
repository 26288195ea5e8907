import { jsonServiceName } from '../../../../otlp/json-attributes.js';
import { protoToJson } from '../../../../otlp/json-encode.js';
import {
  READINGS,
  cpuOf,
  extractionOf,
  inUse,
  msPerUnit,
  type Extraction,
  type Reading,
} from './metric-readings.js';
import { deltasOf, percentile, type Prior } from './metric-deltas.js';
import {
  groupByTime,
  points,
  type JsonMetric,
  type JsonResource,
  type Point,
} from './metric-points.js';

/** One reading of one service over the window, as the prompt shows it. */
export interface ReadingSummary {
  readonly reading: Reading;
  /** The metric it came from (`process.cpu.utilization`, `prometheus`, ...). */
  readonly source: string;
  readonly last: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
  readonly samples: number;
  /** Time of the last sample, ms since the epoch. */
  readonly lastAt: number;
}

export interface WindowLimits {
  readonly windowMs: number;
  readonly maxServices: number;
  /** Samples kept per service and reading. */
  readonly maxSamples: number;
}

interface Sample {
  readonly t: number;
  readonly v: number;
}

interface ServiceState {
  readonly series: Map<Reading, { source: string; samples: Sample[] }>;
  readonly priors: Map<string, Prior>;
}

const AFTER_MS = 120_000;

/**
 * A short window of the metrics services send through the sidecar (CPU, memory, request rate,
 * error rate, latency percentiles where present), per service, so a summary can show the real
 * values around an anomaly. Bounded: services (least recently updated dropped first, counted),
 * samples per reading, cumulative series per service. Only the metrics in `metric-readings.ts`
 * are read.
 */
export class MetricsWindow {
  private readonly services = new Map<string, ServiceState>();
  droppedServices = 0;

  constructor(private readonly limits: WindowLimits) {}

  get size(): number {
    return this.services.size;
  }

  /** Takes what it knows from one (validated) metrics export request. */
  ingest(bytes: Uint8Array, now: number): void {
    const doc = protoToJson('metrics', bytes) as { resourceMetrics?: JsonResource[] };
    for (const rm of doc.resourceMetrics ?? []) {
      const service = jsonServiceName(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const how = extractionOf(m.name ?? '');
          if (how) this.take(service, m, how, now);
        }
      }
    }
  }

  /**
   * The readings of a service over the window before `atMs` and up to two minutes after it (a
   * metric exported after the anomaly describes the interval it happened in).
   */
  read(service: string, atMs: number): ReadingSummary[] {
    const state = this.services.get(service);
    if (!state) return [];
    const out: ReadingSummary[] = [];
    for (const reading of READINGS) {
      const s = state.series.get(reading);
      if (!s) continue;
      const list = s.samples.filter(
        (x) => x.t >= atMs - this.limits.windowMs && x.t <= atMs + AFTER_MS,
      );
      if (list.length === 0) continue;
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const x of list) {
        min = Math.min(min, x.v);
        max = Math.max(max, x.v);
        sum += x.v;
      }
      const last = list[list.length - 1]!;
      out.push({
        reading,
        source: s.source,
        last: last.v,
        min,
        max,
        avg: sum / list.length,
        samples: list.length,
        lastAt: last.t,
      });
    }
    return out;
  }

  private take(service: string, m: JsonMetric, how: Extraction, now: number): void {
    const state = this.state(service);
    const byTime = groupByTime(points(m));
    for (const [t, list] of byTime) {
      if (how.kind === 'ratio') {
        const v = perCpu(list.filter((p) => inUse(p.attrs)));
        if (v !== undefined) this.add(state, how.reading, m.name!, t, v * 100, now);
      } else if (how.kind === 'bytes') {
        const used = list.filter((p) => inUse(p.attrs));
        if (used.length > 0)
          this.add(
            state,
            'memory',
            m.name!,
            t,
            sum(used, (p) => p.value),
            now,
          );
      } else if (how.kind === 'cpu_seconds') {
        const used = list.filter((p) => inUse(p.attrs));
        const d = deltasOf(state.priors, m, used, this.limits.windowMs);
        if (d && d.seconds > 0)
          this.add(state, 'cpu', m.name!, t, (d.value / d.seconds) * 100, now);
      } else {
        this.serverDuration(state, m, list, t, now);
      }
    }
  }

  private serverDuration(
    state: ServiceState,
    m: JsonMetric,
    list: Point[],
    t: number,
    now: number,
  ) {
    const d = deltasOf(state.priors, m, list, this.limits.windowMs);
    if (!d) return;
    const name = m.name!;
    if (d.seconds > 0) this.add(state, 'request_rate', name, t, d.count / d.seconds, now);
    if (d.count === 0) return;
    this.add(state, 'error_rate', name, t, (d.errors / d.count) * 100, now);
    const scale = msPerUnit(m.unit ?? '');
    for (const [reading, q] of [
      ['latency_p50', 0.5],
      ['latency_p95', 0.95],
      ['latency_p99', 0.99],
    ] as const) {
      const v = percentile(d.buckets, d.bounds, q);
      if (v !== undefined) this.add(state, reading, name, t, v * scale, now);
    }
  }

  private add(
    state: ServiceState,
    reading: Reading,
    source: string,
    t: number,
    v: number,
    now: number,
  ): void {
    if (!Number.isFinite(v)) return;
    let s = state.series.get(reading);
    if (!s) state.series.set(reading, (s = { source, samples: [] }));
    s.source = source;
    const samples = s.samples;
    samples.push({ t, v });
    if (samples.length > 1 && samples[samples.length - 2]!.t > t) samples.sort((a, b) => a.t - b.t);
    const oldest = now - this.limits.windowMs;
    let drop = 0;
    while (drop < samples.length && samples[drop]!.t < oldest) drop++;
    drop = Math.max(drop, samples.length - this.limits.maxSamples);
    if (drop > 0) samples.splice(0, drop);
  }

  private state(service: string): ServiceState {
    let state = this.services.get(service);
    if (state) {
      this.services.delete(service); // least recently updated first
    } else {
      state = { series: new Map(), priors: new Map() };
      if (this.services.size >= this.limits.maxServices) {
        this.services.delete(this.services.keys().next().value!);
        this.droppedServices++;
      }
    }
    this.services.set(service, state);
    return state;
  }
}

/** A utilization: the sum over modes, averaged over CPUs when points are per CPU. */
function perCpu(list: Point[]): number | undefined {
  if (list.length === 0) return undefined;
  const cpus = new Set(list.map((p) => cpuOf(p.attrs)).filter((c) => c !== undefined));
  return sum(list, (p) => p.value) / Math.max(1, cpus.size);
}

function sum<T>(list: readonly T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of list) s += f(x);
  return s;
}
