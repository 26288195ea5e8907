import { OTLPLogExporter as GrpcLogs } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogs } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogs } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetrics } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetrics } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetrics } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraces } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/component/consumer.js';
import { makeLogRecords } from '../helpers/logs.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { decodeEntries } from '../helpers/reference-decoder.js';
import { makeResourceMetrics } from '../helpers/metrics.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { makeSpans } from '../helpers/spans.js';

/**
 * The OpenTelemetry JS SDK's own exporters (gRPC, HTTP/protobuf, HTTP/JSON) send traces, metrics
 * and logs to a running sidecar, which forwards them with its `otlp` (gRPC) and `otlphttp`
 * exporters to real OTLP servers started by the test, standing in for Jaeger's OTLP ports. What
 * arrives equals, field for field, what the SDK serialized (ids, times, attributes of every type,
 * events, links, status, resource, scope), decoded by an independent reference decoder.
 */
let sidecar: TestSidecar;
let grpcSink: OtlpSink;
let httpSink: OtlpSink;

beforeAll(async () => {
  grpcSink = await OtlpSink.start();
  httpSink = await OtlpSink.start();
  sidecar = await startTestSidecar(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
processors:
  batch: { timeout: 10ms }
exporters:
  otlp/jaeger:
    endpoint: ${grpcSink.grpcEndpoint}
    tls: { insecure: true }
  otlphttp/jaeger:
    endpoint: ${httpSink.httpEndpoint}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlp/jaeger, otlphttp/jaeger] }
    metrics: { receivers: [otlp], processors: [batch], exporters: [otlp/jaeger, otlphttp/jaeger] }
    logs: { receivers: [otlp], processors: [batch], exporters: [otlp/jaeger, otlphttp/jaeger] }
  telemetry:
    metrics: { level: none }
`);
});
afterAll(async () => {
  await sidecar?.shutdown();
  await grpcSink?.close();
  await httpSink?.close();
});

type Transport = 'grpc' | 'http/protobuf' | 'http/json';
const transports: Transport[] = ['grpc', 'http/protobuf', 'http/json'];

function exporterFor(
  signal: Signal,
  transport: Transport,
): {
  export: (data: any, cb: (r: { code: number; error?: Error }) => void) => void;
  shutdown(): Promise<void>;
} {
  const url =
    transport === 'grpc' ? `http://${sidecar.grpc}` : `http://${sidecar.http}/v1/${signal}`;
  const classes = {
    traces: { grpc: GrpcTraces, 'http/protobuf': ProtoTraces, 'http/json': JsonTraces },
    metrics: { grpc: GrpcMetrics, 'http/protobuf': ProtoMetrics, 'http/json': JsonMetrics },
    logs: { grpc: GrpcLogs, 'http/protobuf': ProtoLogs, 'http/json': JsonLogs },
  } as const;
  const Ctor = classes[signal][transport] as unknown as new (c: { url: string }) => any;
  return new Ctor({ url });
}

function send(exporter: ReturnType<typeof exporterFor>, data: unknown): Promise<void> {
  return new Promise((resolve, reject) =>
    exporter.export(data, (r) =>
      r.code === 0 ? resolve() : reject(r.error ?? new Error(`export failed: ${r.code}`)),
    ),
  );
}

/** Everything a sink accepted for a signal since `from` requests, decoded by the reference decoder. */
function received(sink: OtlpSink, signal: Signal, from: number): unknown[] {
  return decodeEntries(
    signal,
    sink
      .accepted(signal)
      .slice(from)
      .map((r) => r.bytes),
  );
}

/** Sends with the SDK exporter and checks that both sinks got exactly what the SDK encoded. */
async function deliver(
  signal: Signal,
  transport: Transport,
  data: unknown,
  encoded: Uint8Array,
  items: number,
): Promise<void> {
  const from = [grpcSink.accepted(signal).length, httpSink.accepted(signal).length] as const;
  const before = [grpcSink.items(signal), httpSink.items(signal)] as const;
  const exporter = exporterFor(signal, transport);
  await send(exporter, data);
  await exporter.shutdown();
  await grpcSink.waitFor(before[0] + items, signal);
  await httpSink.waitFor(before[1] + items, signal);
  const expected = decodeEntries(signal, [encoded]);
  expect(received(grpcSink, signal, from[0])).toEqual(expected);
  expect(received(httpSink, signal, from[1])).toEqual(expected);
}

describe.each(transports)('the SDK exporter over %s', (transport) => {
  it('delivers every span with every field', async () => {
    const spans = makeSpans('checkout', [
      { name: 'GET /api/cart', durationMs: 12.345678, links: 1 },
      {
        name: 'SELECT cart',
        durationMs: 3,
        error: true,
        attributes: {
          'db.system': 'postgresql',
          rows: 42,
          ratio: 0.5,
          cached: false,
          tags: ['a', 'b'],
          ints: [1, 2],
          big: 2 ** 53,
        },
      },
    ]);
    await deliver('traces', transport, spans, ProtobufTraceSerializer.serializeRequest(spans)!, 2);
  });

  it('delivers every metric data point', async () => {
    const metrics = await makeResourceMetrics('checkout');
    await deliver(
      'metrics',
      transport,
      metrics,
      ProtobufMetricsSerializer.serializeRequest(metrics)!,
      7,
    );
  });

  it('delivers every log record', async () => {
    const records = makeLogRecords('checkout', 4);
    await deliver('logs', transport, records, ProtobufLogsSerializer.serializeRequest(records)!, 4);
  });
});
