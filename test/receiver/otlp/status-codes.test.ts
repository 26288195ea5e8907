import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RefusedError, UnavailableError } from '../../../src/component/errors.js';
import { otlpTypes } from '../../../src/otlp/proto.js';
import { ProtoWriter, WIRE_LEN } from '../../../src/otlp/wire.js';
import { captureExporterFactory, type CaptureExporter } from '../../helpers/capture-exporter.js';
import { startTestSidecar, type TestSidecar } from '../../helpers/sidecar.js';
import { traceRequest } from '../../helpers/spans.js';

/**
 * Every answer of the otlp receiver, over HTTP and gRPC, as the OTLP specification and the
 * Collector give them. The pipeline behind the receiver is real; its exporter is told to refuse,
 * to be unavailable or to reject permanently.
 */
const capture = captureExporterFactory();
let sidecar: TestSidecar;
let exporter: CaptureExporter;

beforeAll(async () => {
  sidecar = await startTestSidecar(
    `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 1 }
      http: { endpoint: 127.0.0.1:0, max_request_body_size: 1048576 }
exporters:
  capture:
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [capture] }
    logs: { receivers: [otlp], exporters: [capture] }
  telemetry:
    metrics: { address: 127.0.0.1:0 }
`,
    { factories: [capture] },
  );
  exporter = capture.instances.get('capture/traces')!;
});
afterAll(() => sidecar?.shutdown());
beforeEach(() => {
  exporter.failWith = undefined;
  exporter.refuseWith = undefined;
});

const t = otlpTypes();
// protobufjs's built-in google.protobuf.Any keeps the proto field name type_url.
const decodeStatus = (b: Uint8Array) =>
  t.status.toObject(t.status.decode(b), { longs: Number }) as {
    code: number;
    message: string;
    details?: Array<{ type_url: string; value: Uint8Array }>;
  };
const retryDelay = (status: ReturnType<typeof decodeStatus>) => {
  const d = status.details?.find((x) => x.type_url === 'type.googleapis.com/google.rpc.RetryInfo');
  return d
    ? (t.retryInfo.toObject(t.retryInfo.decode(d.value), { longs: Number }) as any).retryDelay
    : undefined;
};

async function post(
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
  method = 'POST',
) {
  const res = await fetch(`http://${sidecar.http}${path}`, {
    method,
    body: method === 'POST' ? body : undefined,
    headers,
  });
  return {
    status: res.status,
    headers: res.headers,
    body: new Uint8Array(await res.arrayBuffer()),
  };
}
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSONCT = { 'content-type': 'application/json' };
const validJson = JSON.stringify({
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: [
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              name: 'op',
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
            },
          ],
        },
      ],
    },
  ],
});

describe('OTLP/HTTP answers', () => {
  it('200 with an empty ExportTraceServiceResponse for protobuf', async () => {
    const r = await post('/v1/traces', traceRequest(3), PROTO);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect(r.body.length).toBe(0);
  });

  it('200 with {} for JSON, and gzip bodies are accepted', async () => {
    const r = await post('/v1/traces', gzipSync(validJson), {
      ...JSONCT,
      'content-encoding': 'gzip',
    });
    expect([r.status, r.headers.get('content-type'), new TextDecoder().decode(r.body)]).toEqual([
      200,
      'application/json',
      '{}',
    ]);
  });

  it.each([
    [
      '405 for GET, with Allow: POST',
      () => post('/v1/traces', '', PROTO, 'GET'),
      405,
      '405 method not allowed, supported: [POST]',
    ],
    [
      '415 for an unknown content type',
      () => post('/v1/traces', 'x', { 'content-type': 'text/plain' }),
      415,
      '415 unsupported media type, supported: [application/json, application/x-protobuf]',
    ],
    [
      '404 for a signal without a pipeline',
      () => post('/v1/metrics', new Uint8Array(0), PROTO),
      404,
      '404 page not found',
    ],
    [
      '404 for an unknown path',
      () => post('/v1/profiles', new Uint8Array(0), PROTO),
      404,
      '404 page not found',
    ],
  ])('%s', async (_name, send, status, text) => {
    const r = await send();
    expect(r.status).toBe(status);
    expect(new TextDecoder().decode(r.body)).toBe(text);
    if (status === 405) expect(r.headers.get('allow')).toBe('POST');
  });

  it('400 with a google.rpc.Status body naming the problem for undecodable protobuf', async () => {
    const r = await post('/v1/traces', Buffer.from([0x0a, 0x05, 0x01]), PROTO);
    expect(r.status).toBe(400);
    expect(decodeStatus(r.body)).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      message:
        'cannot decode the protobuf ExportTraceServiceRequest: resource_spans[0]: length runs past the end of its message',
    });
  });

  it('400 with a JSON status for malformed JSON', async () => {
    const r = await post('/v1/traces', '{"resourceSpans": 5}', JSONCT);
    expect(r.status).toBe(400);
    expect(JSON.parse(new TextDecoder().decode(r.body))).toEqual({
      code: 3,
      message:
        'cannot decode the OTLP/JSON ExportTraceServiceRequest: resourceSpans: expected an array, got number 5',
    });
  });

  it('400 for an unsupported Content-Encoding', async () => {
    const r = await post('/v1/traces', traceRequest(1), { ...PROTO, 'content-encoding': 'br' });
    expect([r.status, decodeStatus(r.body).message]).toEqual([
      400,
      'unsupported Content-Encoding "br"; send gzip, deflate or an uncompressed body',
    ]);
  });

  it('413 for a body over the limit, and for a gzip bomb that expands over it', async () => {
    const big = await post('/v1/traces', Buffer.alloc(2 * 1024 * 1024), PROTO);
    expect(big.status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KiB
    const r = await post('/v1/traces', bomb, { ...PROTO, 'content-encoding': 'gzip' });
    expect([r.status, decodeStatus(r.body).message]).toEqual([
      413,
      'decompressed request body is over the limit of 1048576 bytes (max_request_body_size)',
    ]);
  });

  it.each([
    [
      '429 with Retry-After and RetryInfo when the pipeline refuses',
      new RefusedError('queue is full', 3000),
      429,
      grpc.status.RESOURCE_EXHAUSTED,
      '3',
    ],
    [
      '503 with Retry-After when downstream is unavailable',
      new UnavailableError('jaeger is down', 10_000),
      503,
      grpc.status.UNAVAILABLE,
      '10',
    ],
    [
      '400 for a permanent rejection',
      new PermanentError('jaeger said 400'),
      400,
      grpc.status.INVALID_ARGUMENT,
      null,
    ],
    ['500 for an unexpected failure', new Error('boom'), 500, grpc.status.INTERNAL, null],
  ])('%s', async (_name, error, status, code, retryAfter) => {
    exporter.failWith = error;
    const r = await post('/v1/traces', traceRequest(2), PROTO);
    expect(r.status).toBe(status);
    expect(r.headers.get('retry-after')).toBe(retryAfter);
    const s = decodeStatus(r.body);
    expect(s.code).toBe(code);
    if (retryAfter) expect(retryDelay(s)).toEqual({ seconds: Number(retryAfter) });
  });

  it('429 without decoding the body when the pipeline already refuses (memory above the limit)', async () => {
    exporter.refuseWith = new RefusedError('memory usage is above the soft limit', 2000);
    // Undecodable: a decoded request would get 400, so 429 shows the body was not decoded.
    const r = await post('/v1/traces', Buffer.from([0x0a, 0x05, 0x01]), PROTO);
    expect([r.status, r.headers.get('retry-after'), decodeStatus(r.body).code]).toEqual([
      429,
      '2',
      grpc.status.RESOURCE_EXHAUSTED,
    ]);
    const text = await (await fetch(`${sidecar.telemetryUrl}/metrics`)).text();
    expect(text).toMatch(
      /hourglass_receiver_refused_requests_total\{receiver="otlp",transport="http",otel_signal="traces"\} 1/,
    );
  });

  it('200 with partial_success when some spans have invalid ids; the rest is forwarded', async () => {
    const before = exporter.items();
    const good = traceRequest(2);
    // Append a span with a 4-byte trace id in its own resource entry: concatenation merges requests.
    const bad = new ProtoWriter()
      .fork()
      .fork()
      .fork()
      .tag(1, WIRE_LEN)
      .bytes(Buffer.from([1, 2, 3, 4]))
      .tag(2, WIRE_LEN)
      .bytes(Buffer.alloc(8, 1))
      .join(2)
      .join(2)
      .join(1)
      .finish();
    const r = await post('/v1/traces', Buffer.concat([good, bad]), PROTO);
    expect(r.status).toBe(200);
    expect(t.traceResponse.toObject(t.traceResponse.decode(r.body), { longs: Number })).toEqual({
      partialSuccess: {
        rejectedSpans: 1,
        errorMessage: '1 span(s) rejected: trace_id has 4 bytes, expected 16',
      },
    });
    expect(exporter.items() - before).toBe(2);
  });
});

describe('OTLP/gRPC answers', () => {
  const call = (service: string, body: Uint8Array) =>
    new Promise<{ error: grpc.ServiceError | null; response?: Buffer }>((resolve) => {
      const client = new grpc.Client(sidecar.grpc, grpc.credentials.createInsecure());
      client.makeUnaryRequest(
        `/opentelemetry.proto.collector.${service}/Export`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(body),
        (error, response) => {
          client.close();
          resolve({ error, response });
        },
      );
    });
  const details = (e: grpc.ServiceError | null) =>
    decodeStatus(e!.metadata.get('grpc-status-details-bin')[0] as Buffer);

  it('RESOURCE_EXHAUSTED without decoding when the pipeline already refuses', async () => {
    exporter.refuseWith = new RefusedError('memory usage is above the soft limit', 2000);
    const r = await call('trace.v1.TraceService', Buffer.from([0x0a, 0x05, 0x01]));
    expect(r.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(retryDelay(details(r.error))).toEqual({ seconds: 2 });
  });

  it('OK with an empty response', async () => {
    const r = await call('trace.v1.TraceService', traceRequest(3));
    expect(r.error).toBeNull();
    expect(r.response!.length).toBe(0);
  });

  it('UNIMPLEMENTED for a signal without a pipeline', async () => {
    const r = await call('metrics.v1.MetricsService', new Uint8Array(0));
    expect(r.error?.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('INVALID_ARGUMENT naming the problem for undecodable protobuf', async () => {
    const r = await call('trace.v1.TraceService', Buffer.from([0x0a, 0x05, 0x01]));
    expect([r.error?.code, r.error?.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'cannot decode the protobuf ExportTraceServiceRequest: resource_spans[0]: length runs past the end of its message',
    ]);
  });

  it('RESOURCE_EXHAUSTED for a message over max_recv_msg_size_mib', async () => {
    const r = await call('trace.v1.TraceService', Buffer.alloc(2 * 1024 * 1024));
    expect(r.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it.each([
    [
      'RESOURCE_EXHAUSTED with RetryInfo when the pipeline refuses',
      new RefusedError('full', 3000),
      grpc.status.RESOURCE_EXHAUSTED,
      3,
    ],
    [
      'UNAVAILABLE with RetryInfo when downstream is unavailable',
      new UnavailableError('down', 10_000),
      grpc.status.UNAVAILABLE,
      10,
    ],
    [
      'INVALID_ARGUMENT for a permanent rejection',
      new PermanentError('no'),
      grpc.status.INVALID_ARGUMENT,
      undefined,
    ],
  ])('%s', async (_name, error, code, seconds) => {
    exporter.failWith = error;
    const r = await call('trace.v1.TraceService', traceRequest(1));
    expect(r.error?.code).toBe(code);
    expect(retryDelay(details(r.error))).toEqual(seconds === undefined ? undefined : { seconds });
  });
});

describe('self-metrics', () => {
  it('counts accepted and refused spans per transport', async () => {
    const text = await (await fetch(`${sidecar.telemetryUrl}/metrics`)).text();
    expect(text).toMatch(
      /otelcol_receiver_accepted_spans_total\{receiver="otlp",transport="http"\} [1-9]/,
    );
    expect(text).toMatch(
      /otelcol_receiver_accepted_spans_total\{receiver="otlp",transport="grpc"\} [1-9]/,
    );
    expect(text).toMatch(
      /otelcol_receiver_refused_spans_total\{receiver="otlp",transport="http"\} [1-9]/,
    );
  });
});
