import { ValueType, type Attributes } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/**
 * Metrics with exact values and times, in the SDK's own data model and serialized by the SDK's
 * protobuf serializer (the bytes an OTLP metrics exporter sends), for tests that need to know
 * what each rate and percentile must come out as.
 */
export interface PointSpec {
  readonly atMs: number;
  /** Series start; default 60 s before `atMs`. */
  readonly startMs?: number;
  readonly attributes?: Attributes;
}

export type MetricSpec =
  | {
      readonly type: 'gauge' | 'sum';
      readonly name: string;
      readonly unit?: string;
      readonly cumulative?: boolean;
      readonly points: readonly (PointSpec & { readonly value: number })[];
    }
  | {
      readonly type: 'histogram';
      readonly name: string;
      readonly unit?: string;
      readonly cumulative?: boolean;
      readonly boundaries: readonly number[];
      readonly points: readonly (PointSpec & { readonly counts: readonly number[] })[];
    };

const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

function metricData(m: MetricSpec): MetricData {
  const descriptor = {
    name: m.name,
    description: '',
    unit: m.unit ?? '',
    valueType: ValueType.DOUBLE,
  };
  const aggregationTemporality =
    m.cumulative === false ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
  const times = (p: PointSpec) => ({
    startTime: hr(p.startMs ?? p.atMs - 60_000),
    endTime: hr(p.atMs),
    attributes: p.attributes ?? {},
  });
  if (m.type === 'histogram') {
    return {
      descriptor,
      aggregationTemporality,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: m.points.map((p) => ({
        ...times(p),
        value: {
          buckets: { boundaries: [...m.boundaries], counts: [...p.counts] },
          count: p.counts.reduce((a, b) => a + b, 0),
          sum: 0,
        },
      })),
    };
  }
  return {
    descriptor,
    aggregationTemporality,
    dataPointType: m.type === 'gauge' ? DataPointType.GAUGE : DataPointType.SUM,
    isMonotonic: true,
    dataPoints: m.points.map((p) => ({ ...times(p), value: p.value })),
  } as MetricData;
}

export function metricsRequest(service: string, metrics: readonly MetricSpec[]): Uint8Array {
  const rm: ResourceMetrics = {
    resource: resourceFromAttributes({ 'service.name': service }),
    scopeMetrics: [{ scope: { name: 'test' }, metrics: metrics.map(metricData) }],
  };
  return ProtobufMetricsSerializer.serializeRequest(rm)!;
}
