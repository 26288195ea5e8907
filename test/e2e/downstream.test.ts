import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OtlpSink, type SinkAnswer } from '../helpers/otlp-sink.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { traceRequest } from '../helpers/spans.js';

/**
 * What a client of the sidecar is answered, and what reaches Jaeger, for each way the downstream
 * can behave: up, down, slow, answering 429 / 503 / 400. With the default sending queue the client
 * is answered at once and the data is retried; without a queue the downstream's answer travels
 * back to the client (503 with Retry-After for retryable failures, 400 for permanent ones).
 */
let sink: OtlpSink;
let queued: TestSidecar;
let direct: TestSidecar;
const QUEUED =
  '    retry_on_failure: { initial_interval: 20ms, max_interval: 50ms, randomization_factor: 0 }';
const DIRECT = '    retry_on_failure: { enabled: false }\n    sending_queue: { enabled: false }';

const exporter = (extra: string) => `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  otlp/jaeger:
    endpoint: \${env:SINK}
    tls: { insecure: true }
    timeout: 300ms
${extra}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp/jaeger] }
  telemetry:
    metrics: { address: 127.0.0.1:0 }
`;

// Each case gets its own downstream and sidecar, so that retries of one case cannot meet the
// programmed answers of the next.
beforeEach(async () => {
  sink = await OtlpSink.start();
  const env = { SINK: sink.grpcEndpoint };
  queued = await startTestSidecar(exporter(QUEUED), { env });
  direct = await startTestSidecar(exporter(DIRECT), { env });
});
afterEach(async () => {
  await queued.shutdown();
  await direct.shutdown();
  await sink.close();
});

async function postHttp(to: TestSidecar, spans: number) {
  const res = await fetch(`http://${to.http}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: traceRequest(spans),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

function callGrpc(to: TestSidecar, spans: number): Promise<grpc.status> {
  return new Promise((resolve) => {
    const client = new grpc.Client(to.grpc, grpc.credentials.createInsecure());
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(traceRequest(spans)),
      (err) => {
        client.close();
        resolve(err ? err.code : grpc.status.OK);
      },
    );
  });
}

const metric = async (to: TestSidecar, name: string) => {
  const text = await (await fetch(`${to.telemetryUrl}/metrics`)).text();
  return Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
};

describe('with the sending queue (the default)', () => {
  it.each<[string, SinkAnswer]>([
    ['503 twice', { grpc: grpc.status.UNAVAILABLE }],
    ['429 with RetryInfo twice', { grpc: grpc.status.RESOURCE_EXHAUSTED, retryDelayMs: 30 }],
    ['slower than the timeout twice', { delayMs: 800 }],
  ])(
    'downstream answers %s: the client gets 200 at once and every span arrives',
    async (_name, answer) => {
      sink.answerNext(2, answer);
      const before = sink.items();
      expect((await postHttp(queued, 7)).status).toBe(200);
      expect(await callGrpc(queued, 5)).toBe(grpc.status.OK);
      await sink.waitFor(before + 12);
      expect(sink.items()).toBe(before + 12);
    },
  );

  it('downstream down, then back: the client gets 200, spans arrive after recovery', async () => {
    await sink.stop();
    expect((await postHttp(queued, 9)).status).toBe(200);
    await sink.restart();
    await sink.waitFor(9);
  });

  it('downstream answers 400: the client gets 200, the spans are dropped and counted', async () => {
    sink.answerNext(1, { grpc: grpc.status.INVALID_ARGUMENT, message: 'bad span' });
    const failed = await metric(queued, 'otelcol_exporter_send_failed_spans_total');
    expect((await postHttp(queued, 4)).status).toBe(200);
    await sink.waitForRequests(sink.requests.length + 1).catch(() => undefined);
    await expect
      .poll(() => metric(queued, 'otelcol_exporter_send_failed_spans_total'))
      .toBe(failed + 4);
  });
});

describe('without a sending queue', () => {
  it.each<[string, number, string, SinkAnswer | 'down', grpc.status]>([
    ['503', 503, 'UNAVAILABLE', { grpc: grpc.status.UNAVAILABLE }, grpc.status.UNAVAILABLE],
    [
      '429 with RetryInfo',
      503,
      'UNAVAILABLE',
      { grpc: grpc.status.RESOURCE_EXHAUSTED, retryDelayMs: 4000 },
      grpc.status.UNAVAILABLE,
    ],
    ['slower than the timeout', 503, 'UNAVAILABLE', { delayMs: 800 }, grpc.status.UNAVAILABLE],
    [
      '400',
      400,
      'INVALID_ARGUMENT',
      { grpc: grpc.status.INVALID_ARGUMENT, message: 'bad span' },
      grpc.status.INVALID_ARGUMENT,
    ],
    ['nothing (down)', 503, 'UNAVAILABLE', 'down', grpc.status.UNAVAILABLE],
  ])('downstream answers %s: HTTP %s, gRPC %s', async (_name, http, _codeName, answer, code) => {
    if (answer === 'down') await sink.stop();
    else sink.answerAll(answer);
    const r = await postHttp(direct, 3);
    expect(r.status).toBe(http);
    if (http === 503) expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(await callGrpc(direct, 3)).toBe(code);
  });

  it('downstream up: 200 and the spans arrive before the answer', async () => {
    expect((await postHttp(direct, 6)).status).toBe(200);
    expect(sink.items()).toBe(6);
  });

  it('downstream back after an outage: requests succeed again once the channel reconnects', async () => {
    await sink.stop();
    expect((await postHttp(direct, 2)).status).toBe(503);
    await sink.restart();
    await expect
      .poll(async () => (await postHttp(direct, 2)).status, { timeout: 10_000, interval: 200 })
      .toBe(200);
  });
});
