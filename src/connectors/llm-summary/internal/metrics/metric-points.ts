import type { PointAttributes } from './metric-readings.js';
import { jsonAttributes, type JsonKeyValue } from '../../../../otlp/json-attributes.js';

/**
 * The data points of one metric of an OTLP/JSON metrics request (as `protoToJson` gives it), in
 * the shape the metrics window reads: time, series key, value, count and histogram buckets.
 */

export interface Point {
  readonly t: number;
  readonly start: number;
  readonly attrs: PointAttributes;
  readonly key: string;
  readonly value: number;
  readonly count: number;
  readonly buckets: readonly number[];
  readonly bounds: readonly number[];
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
export interface JsonMetric {
  name?: string;
  unit?: string;
  gauge?: { dataPoints?: JsonPoint[] };
  sum?: { dataPoints?: JsonPoint[]; aggregationTemporality?: number };
  histogram?: { dataPoints?: JsonPoint[]; aggregationTemporality?: number };
}
export interface JsonResource {
  resource?: { attributes?: JsonKeyValue[] };
  scopeMetrics?: { metrics?: JsonMetric[] }[];
}

const nanosToMs = (v: string | undefined) => (v === undefined ? 0 : Number(BigInt(v) / 1_000_000n));

export function points(m: JsonMetric): Point[] {
  const list = (m.gauge ?? m.sum ?? m.histogram)?.dataPoints ?? [];
  return list.map((p) => {
    const attrs = jsonAttributes(p.attributes);
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

export function groupByTime(list: Point[]): Map<number, Point[]> {
  const out = new Map<number, Point[]>();
  for (const p of list) {
    if (!(p.t > 0)) continue;
    const g = out.get(p.t);
    if (g) g.push(p);
    else out.set(p.t, [p]);
  }
  return out;
}
