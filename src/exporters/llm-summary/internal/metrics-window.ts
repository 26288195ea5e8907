import { protoToJson } from '../../../otlp/json-encode.js';
import {
  READINGS,
  cpuOf,
  extractionOf,
  inUse,
  isError,
  msPerUnit,
  type Extraction,
  type PointAttributes,
  type Reading,
} from './metric-readings.js';

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

interface Point {
  readonly t: number;
  readonly start: number;
  readonly attrs: PointAttributes;
  readonly key: string;
  readonly value: number;
  readonly count: number;
  readonly buckets: readonly number[];
  readonly bounds: readonly number[];
}

/** The last cumulative value of a series, to turn the next one into a delta. */
interface Prior {
  readonly t: number;
  readonly value: number;
  readonly count: number;
  readonly buckets: readonly number[];
}

interface ServiceState {
  readonly series: Map<Reading, { source: string; samples: Sample[] }>;
  readonly priors: Map<string, Prior>;
}

const MAX_PRIORS = 512;
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
      const service = serviceName(rm.resource?.attributes);
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
        const d = this.deltas(
          state,
          m,
          list.filter((p) => inUse(p.attrs)),
        );
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
    const d = this.deltas(state, m, list);
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

  /**
   * What happened since the previous collection, summed over the points of one time: values,
   * counts, errors and bucket counts (cumulative series against their prior value, delta series
   * as they are), and the interval they cover.
   */
  private deltas(state: ServiceState, m: JsonMetric, list: Point[]) {
    const cumulative = (m.sum ?? m.histogram)?.aggregationTemporality === 2;
    let value = 0;
    let count = 0;
    let errors = 0;
    let seconds = 0;
    let any = false;
    const bounds = list.find((p) => p.bounds.length > 0)?.bounds ?? [];
    const buckets = new Array<number>(bounds.length + 1).fill(0);
    for (const p of list) {
      let dv = p.value;
      let dc = p.count;
      let db = p.buckets;
      let from = p.start;
      if (cumulative) {
        const key = `${m.name!}\u0000${p.key}`;
        const prior = state.priors.get(key);
        if (state.priors.size >= MAX_PRIORS && !prior) state.priors.clear();
        state.priors.set(key, { t: p.t, value: p.value, count: p.count, buckets: p.buckets });
        if (prior && prior.t >= p.t) continue;
        // A first value covers the series' whole life: used only when that is recent.
        if (!prior && !(p.t - p.start <= this.limits.windowMs)) continue;
        if (prior) from = prior.t;
        if (prior && p.count >= prior.count && p.value >= prior.value) {
          dv = p.value - prior.value;
          dc = p.count - prior.count;
          db = p.buckets.map((b, i) => b - (prior.buckets[i] ?? 0));
        } // else the series restarted: what it holds now is all since the restart
      }
      any = true;
      // A series created just before it was collected covers no time: no rate, but its counts.
      if (from > 0 && from < p.t) seconds = Math.max(seconds, (p.t - from) / 1000);
      value += dv;
      count += dc;
      if (isError(p.attrs)) errors += dc;
      if (sameBounds(p.bounds, bounds)) db.forEach((b, i) => (buckets[i]! += b));
    }
    return any ? { value, count, errors, seconds, buckets, bounds } : undefined;
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

/** The value at quantile `q` of a histogram, interpolated inside its bucket. */
export function percentile(
  buckets: readonly number[],
  bounds: readonly number[],
  q: number,
): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (!(total > 0) || bounds.length === 0) return undefined;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < buckets.length; i++) {
    const before = cum;
    cum += buckets[i]!;
    if (cum < rank || buckets[i] === 0) continue;
    const lower = i === 0 ? Math.min(0, bounds[0]!) : bounds[i - 1]!;
    if (i >= bounds.length) return lower; // the overflow bucket has no upper bound
    return lower + (bounds[i]! - lower) * ((rank - before) / buckets[i]!);
  }
  return bounds[bounds.length - 1];
}

interface JsonKeyValue {
  key: string;
  value?: Record<string, unknown>;
}
interface JsonPoint {
  attributes?: JsonKeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asDouble?: number;
  asInt?: string;
  count?: string;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
interface JsonMetric {
  name?: string;
  unit?: string;
  gauge?: { dataPoints?: JsonPoint[] };
  sum?: { dataPoints?: JsonPoint[]; aggregationTemporality?: number };
  histogram?: { dataPoints?: JsonPoint[]; aggregationTemporality?: number };
}
interface JsonResource {
  resource?: { attributes?: JsonKeyValue[] };
  scopeMetrics?: { metrics?: JsonMetric[] }[];
}

function attributes(list: JsonKeyValue[] | undefined): Map<string, string | number | boolean> {
  const out = new Map<string, string | number | boolean>();
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    const x = v['stringValue'] ?? v['intValue'] ?? v['doubleValue'] ?? v['boolValue'];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')
      out.set(kv.key, x);
  }
  return out;
}

function serviceName(list: JsonKeyValue[] | undefined): string {
  const name = attributes(list).get('service.name');
  return typeof name === 'string' ? name : 'unknown_service';
}

const nanosToMs = (v: string | undefined) => (v === undefined ? 0 : Number(BigInt(v) / 1_000_000n));

function points(m: JsonMetric): Point[] {
  const list = (m.gauge ?? m.sum ?? m.histogram)?.dataPoints ?? [];
  return list.map((p) => {
    const attrs = attributes(p.attributes);
    return {
      t: nanosToMs(p.timeUnixNano),
      start: nanosToMs(p.startTimeUnixNano),
      attrs,
      key: JSON.stringify([...attrs].sort(([a], [b]) => a.localeCompare(b))),
      value: p.asDouble ?? (p.asInt !== undefined ? Number(p.asInt) : 0),
      count: Number(p.count ?? 0),
      buckets: (p.bucketCounts ?? []).map(Number),
      bounds: p.explicitBounds ?? [],
    };
  });
}

function groupByTime(list: Point[]): Map<number, Point[]> {
  const out = new Map<number, Point[]>();
  for (const p of list) {
    if (!(p.t > 0)) continue;
    const g = out.get(p.t);
    if (g) g.push(p);
    else out.set(p.t, [p]);
  }
  return out;
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

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
