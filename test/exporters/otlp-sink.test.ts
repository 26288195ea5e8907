import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OtlpSink } from '../helpers/otlp-sink.js';

/**
 * The sink must speak the real OTLP wire format: the OpenTelemetry JS SDK's own exporters (gRPC,
 * HTTP/protobuf, HTTP/JSON, gzip) send to it, and its programmed errors reach them as real errors.
 */

function finishedSpans(n: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'cart' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('sink-test');
  for (let i = 0; i < n; i++) tracer.startSpan(`op-${i}`).end();
  return memory.getFinishedSpans();
}

function exportWith(
  exporter: SpanExporter,
  spans: ReadableSpan[],
): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

let sink: OtlpSink;
beforeEach(async () => {
  sink = await OtlpSink.start();
});
afterEach(async () => {
  await sink.close();
});

describe('otlp-sink', () => {
  const clients: Array<[string, () => SpanExporter]> = [
    [
      'gRPC, gzip',
      () =>
        new GrpcTraceExporter({
          url: `http://${sink.grpcEndpoint}`,
          compression: CompressionAlgorithm.GZIP,
        }),
    ],
    [
      'HTTP/protobuf, gzip',
      () =>
        new ProtoTraceExporter({
          url: `${sink.httpEndpoint}/v1/traces`,
          compression: CompressionAlgorithm.GZIP,
        }),
    ],
    ['HTTP/JSON', () => new JsonTraceExporter({ url: `${sink.httpEndpoint}/v1/traces` })],
  ];

  it.each(clients)(
    'receives and decodes spans from the SDK exporter over %s',
    async (_name, make) => {
      const exporter = make();
      const spans = finishedSpans(3);
      const result = await exportWith(exporter, spans);
      await exporter.shutdown();
      expect(result.code).toBe(0);
      await sink.waitFor(3);
      expect(sink.requests).toHaveLength(1);
      expect(sink.spans().map((s) => s.name)).toEqual(['op-0', 'op-1', 'op-2']);
      expect(sink.spans()[0]!.service).toBe('cart');
      expect(sink.spanIds()).toEqual(spans.map((s) => s.spanContext().spanId));
    },
  );

  it('answers programmed gRPC errors with their code, then succeeds', async () => {
    sink.answerNext(1, { grpc: grpc.status.PERMISSION_DENIED, message: 'no tenant' });
    const exporter = clients[0]![1]();
    const first = await exportWith(exporter, finishedSpans(1));
    const second = await exportWith(exporter, finishedSpans(1));
    await exporter.shutdown();
    expect(first.code).toBe(1);
    expect(first.error?.message).toContain('no tenant');
    expect(second.code).toBe(0);
    expect(sink.requests.map((r) => r.accepted)).toEqual([false, true]);
    expect(sink.items()).toBe(1);
  });

  it('answers programmed HTTP statuses with Retry-After and records headers', async () => {
    sink.answerNext(2, { http: 400, message: 'bad tenant' });
    const exporter = new ProtoTraceExporter({
      url: `${sink.httpEndpoint}/v1/traces`,
      headers: { 'x-tenant': 'blue' },
    });
    const result = await exportWith(exporter, finishedSpans(2));
    await exporter.shutdown();
    expect(result.code).toBe(1);
    expect(sink.requests[0]!.headers['x-tenant']).toBe('blue');
    expect(sink.requests[0]!.items).toBe(2);
    expect(sink.items()).toBe(0);
  });

  it('stops listening and starts again on the same ports', async () => {
    const grpcEndpoint = sink.grpcEndpoint;
    const httpEndpoint = sink.httpEndpoint;
    await sink.stop();
    await expect(
      fetch(`${httpEndpoint}/v1/traces`, { method: 'POST', body: new Uint8Array(0) }),
    ).rejects.toThrow();
    await sink.restart();
    expect(sink.grpcEndpoint).toBe(grpcEndpoint);
    expect(sink.httpEndpoint).toBe(httpEndpoint);
    const exporter = new ProtoTraceExporter({ url: `${httpEndpoint}/v1/traces` });
    const ok = await exportWith(exporter, finishedSpans(1));
    await exporter.shutdown();
    expect(ok.code).toBe(0);
    expect(sink.items()).toBe(1);
  });

  it('rejects waitFor with what it received when the items never come', async () => {
    await expect(sink.waitFor(5, 'traces', 50)).rejects.toThrow('received 0 of 5 traces items');
  });

  it('waitForSpans waits for every distinct span id: a retried request cannot end it early', async () => {
    const exporter = new ProtoTraceExporter({ url: `${sink.httpEndpoint}/v1/traces` });
    const [first, second] = [finishedSpans(4), finishedSpans(4)];
    const ids = new Set([...first, ...second].map((s) => s.spanContext().spanId));
    const all = sink.waitForSpans(ids, 5000);
    let done = false;
    void all.then(() => (done = true));
    // The first request twice (a retry whose first answer was lost): 8 items, 4 distinct spans.
    expect((await exportWith(exporter, first)).code).toBe(0);
    expect((await exportWith(exporter, first)).code).toBe(0);
    await sink.waitFor(8); // counting items, duplicates included, this would be "all of them"
    expect(sink.deliveredSpanIds().size).toBe(4);
    expect(done).toBe(false);
    expect((await exportWith(exporter, second)).code).toBe(0);
    await all;
    expect(sink.deliveredSpanIds()).toEqual(ids);
    await exporter.shutdown();
    await expect(sink.waitForSpans(new Set(['0123456789abcdef']), 50)).rejects.toThrow(
      'the sink has 0 of the 1 span ids awaited',
    );
  });
});
