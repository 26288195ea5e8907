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
import { captureExporterFactory } from '../helpers/capture-exporter.js';
import { makeLogRecords } from '../helpers/logs.js';
import { decodeEntries } from '../helpers/reference-decoder.js';
import { makeResourceMetrics } from '../helpers/metrics.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { makeSpans } from '../helpers/spans.js';

/**
 * The OpenTelemetry JS SDK's own exporters (gRPC, HTTP/protobuf, HTTP/JSON) send traces, metrics
 * and logs to a running sidecar; what leaves each pipeline equals, field for field, what the SDK
 * serialized (ids, times, attributes of every type, events, status, resource, scope).
 */
const capture = captureExporterFactory();
let sidecar: TestSidecar;

beforeAll(async () => {
  sidecar = await startTestSidecar(
    `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  capture:
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [capture] }
    metrics: { receivers: [otlp], exporters: [capture] }
    logs: { receivers: [otlp], exporters: [capture] }
  telemetry:
    metrics: { level: none }
`,
    { factories: [capture] },
  );
});
afterAll(() => sidecar?.shutdown());

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

/** Everything captured for a signal since `from`, decoded by the reference decoder. */
function received(signal: Signal, from: number): unknown[] {
  const batches = capture.instances.get(`capture/${signal}`)!.batches.slice(from);
  return decodeEntries(
    signal,
    batches.map((b) => b.bytes),
  );
}

describe.each(transports)('the SDK exporter over %s', (transport) => {
  it('delivers every span with every field', async () => {
    const spans = makeSpans('checkout', [
      { name: 'GET /api/cart', durationMs: 12.345678 },
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
    const exporter = exporterFor('traces', transport);
    const from = capture.instances.get('capture/traces')?.batches.length ?? 0;
    await send(exporter, spans);
    await exporter.shutdown();
    const expected = decodeEntries('traces', [ProtobufTraceSerializer.serializeRequest(spans)!]);
    expect(received('traces', from)).toEqual(expected);
  });

  it('delivers every metric data point', async () => {
    const metrics = await makeResourceMetrics('checkout');
    const exporter = exporterFor('metrics', transport);
    const from = capture.instances.get('capture/metrics')?.batches.length ?? 0;
    await send(exporter, metrics);
    await exporter.shutdown();
    const expected = decodeEntries('metrics', [
      ProtobufMetricsSerializer.serializeRequest(metrics)!,
    ]);
    expect(received('metrics', from)).toEqual(expected);
    expect(capture.instances.get('capture/metrics')!.batches.at(-1)!.items).toBe(7);
  });

  it('delivers every log record', async () => {
    const records = makeLogRecords('checkout', 4);
    const exporter = exporterFor('logs', transport);
    const from = capture.instances.get('capture/logs')?.batches.length ?? 0;
    await send(exporter, records);
    await exporter.shutdown();
    const expected = decodeEntries('logs', [ProtobufLogsSerializer.serializeRequest(records)!]);
    expect(received('logs', from)).toEqual(expected);
  });
});
