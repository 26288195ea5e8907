import http2 from 'node:http2';
import net from 'node:net';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPath, framePrefix } from '../../../src/otlp/grpc.js';
import { captureExporterFactory } from '../../helpers/capture-exporter.js';
import { metricValue } from '../../helpers/self-metrics.js';
import { startTestSidecar, type TestSidecar } from '../../helpers/sidecar.js';
import { makeSpans, traceRequest } from '../../helpers/spans.js';

/**
 * Connection limits and timeouts of both receivers, with short settings so that each takes a
 * fraction of a second: idle and silent connections are closed, slow bodies are cut, the cap on
 * connections refuses the surplus, and every one of these is counted. A second sidecar has every
 * timeout past what a Node timer waits.
 */
const capture = captureExporterFactory();
let sidecar: TestSidecar;
let far: TestSidecar;
const MAX = 6;

beforeAll(async () => {
  sidecar = await startTestSidecar(sidecarYaml('300ms', '500ms'), { factories: [capture] });
  far = await startTestSidecar(sidecarYaml('1000h', '1000h'), { factories: [capture] });
});
afterAll(() => Promise.all([sidecar?.shutdown(), far?.shutdown()]));

/** Both protocols with `header` as read_header_timeout and the idle timeouts, `read` as read_timeout. */
const sidecarYaml = (header: string, read: string) => `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
        max_connections: ${MAX}
        read_header_timeout: ${header}
        read_timeout: ${read}
        keepalive: { server_parameters: { max_connection_idle: ${header} } }
      http:
        endpoint: 127.0.0.1:0
        max_connections: ${MAX}
        read_header_timeout: ${header}
        read_timeout: ${read}
        idle_timeout: ${header}
exporters:
  capture:
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [capture] }
  telemetry: { metrics: { level: none } }
`;

const counter = (name: string, transport: string) =>
  metricValue(sidecar, `hourglass_receiver_${name}`, { transport });

function connect(address: string): Promise<net.Socket> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), host, () => resolve(s));
    s.once('error', reject);
  });
}

const closed = (s: net.Socket) =>
  new Promise<string>((resolve) => {
    if (s.closed) return resolve('');
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('error', () => undefined);
    s.once('close', () => resolve(data));
  });

const sdkExport = (url: string) =>
  new Promise<number>((resolve) =>
    new ProtoTraces({ url }).export(makeSpans('cart', [{}]), (r) => resolve(r.code)),
  );

describe('OTLP/HTTP connection limits', () => {
  it('closes a connection that sends nothing within read_header_timeout, and counts it', async () => {
    const before = await counter('requests_timed_out_total', 'http');
    const s = await connect(sidecar.http);
    await closed(s);
    expect(await counter('requests_timed_out_total', 'http')).toBe(before + 1);
  });

  it('answers 408 to a body that does not arrive within read_timeout', async () => {
    const s = await connect(sidecar.http);
    const answer = closed(s);
    s.write(
      'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000000\r\n\r\n',
    );
    s.write(Buffer.alloc(100_000));
    expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a keep-alive connection idle for idle_timeout, and counts it', async () => {
    const before = await counter('connections_idle_closed_total', 'http');
    const s = await connect(sidecar.http);
    const answer = closed(s);
    const body = traceRequest(1);
    s.write(
      `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    s.write(body);
    expect(await answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(await counter('connections_idle_closed_total', 'http')).toBe(before + 1);
  });

  it('makes room for a new client by closing the oldest silent connection when all slots are taken', async () => {
    const before = await counter('connections_idle_closed_total', 'http');
    const silent = await Promise.all(Array.from({ length: MAX }, () => connect(sidecar.http)));
    const first = closed(silent[0]!);
    // A service exporting while silent connections take every slot is still served.
    expect(await sdkExport(`http://${sidecar.http}/v1/traces`)).toBe(0);
    await first;
    expect(await counter('connections_idle_closed_total', 'http')).toBeGreaterThan(before);
    for (const s of silent) s.destroy();
    await Promise.all(silent.map((s) => closed(s)));
  });

  it('refuses a connection when every slot has a request in progress, and counts it', async () => {
    const before = await counter('connections_refused_total', 'http');
    const busy: net.Socket[] = [];
    try {
      for (let i = 0; i < MAX; i++) {
        const s = await connect(sidecar.http);
        s.on('error', () => undefined);
        busy.push(s);
        // "100 Continue" comes back once the server has taken the request in.
        const taken = new Promise((resolve) => s.once('data', resolve));
        s.write(
          'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n',
        );
        await taken;
      }
      const extra = await connect(sidecar.http);
      await closed(extra);
      expect(await counter('connections_open', 'http')).toBe(MAX);
      expect(await counter('connections_refused_total', 'http')).toBe(before + 1);
    } finally {
      for (const s of busy) s.destroy();
    }
    await Promise.all(busy.map((s) => closed(s)));
    expect(await sdkExport(`http://${sidecar.http}/v1/traces`)).toBe(0);
  });
});

function grpcSession(address = sidecar.grpc): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    session.once('remoteSettings', () => resolve(session));
    session.once('error', reject);
  });
}

/**
 * One Export call with the given body (its first 10 bytes `gapMs` before the rest, when given);
 * resolves with the grpc-status and message.
 */
async function call(
  session: http2.ClientHttp2Session,
  body: Buffer,
  headers: http2.OutgoingHttpHeaders = {},
  end = true,
  gapMs?: number,
): Promise<{ status: string | undefined; message: string | undefined }> {
  const stream = session.request({
    ':method': 'POST',
    ':path': exportPath('traces'),
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  stream.on('error', () => undefined);
  let status: string | undefined;
  let message: string | undefined;
  const read = (h: http2.IncomingHttpHeaders) => {
    status ??= h['grpc-status'] as string | undefined;
    message ??= h['grpc-message'] as string | undefined;
  };
  stream.on('response', read);
  stream.on('trailers', read);
  stream.resume();
  const closed = new Promise<void>((resolve) => stream.once('close', resolve));
  if (gapMs !== undefined) {
    stream.write(body.subarray(0, 10));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    body = body.subarray(10);
  }
  if (end) stream.end(body);
  else stream.write(body);
  await closed;
  return { status, message };
}

const message = (bytes: Uint8Array, flag = 0) =>
  Buffer.concat([Object.assign(framePrefix(bytes.length, false), { 0: flag }), bytes]);

describe('OTLP/gRPC connection limits', () => {
  it('advertises max_concurrent_streams (100 by default) in its SETTINGS', async () => {
    const session = await grpcSession();
    // The test config leaves max_concurrent_streams at its default.
    expect(session.remoteSettings.maxConcurrentStreams).toBe(100);
    session.destroy();
  });

  it('closes a connection that sends only the HTTP/2 preface within read_header_timeout', async () => {
    const before = await counter('requests_timed_out_total', 'grpc');
    const session = await grpcSession();
    await new Promise((resolve) => session.once('close', resolve));
    expect(await counter('requests_timed_out_total', 'grpc')).toBe(before + 1);
  });

  it('sends GOAWAY to a connection idle for max_connection_idle after its calls', async () => {
    const before = await counter('connections_idle_closed_total', 'grpc');
    const session = await grpcSession();
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    expect((await call(session, message(traceRequest(1)))).status).toBe('0');
    await goaway;
    expect(await counter('connections_idle_closed_total', 'grpc')).toBe(before + 1);
    session.destroy();
  });

  it('resets a call whose message does not arrive whole within read_timeout (3.9 of 4 MiB)', async () => {
    const before = await counter('requests_timed_out_total', 'grpc');
    const session = await grpcSession();
    const prefix = framePrefix(4 * 1024 * 1024 - 100, false);
    const partial = Buffer.concat([prefix, Buffer.alloc(3.9 * 1024 * 1024)]);
    const r = await call(session, partial, {}, false);
    expect(r.status).toBe('1'); // CANCELLED
    expect(decodeURIComponent(r.message ?? '')).toContain('did not arrive within read_timeout');
    expect(await counter('requests_timed_out_total', 'grpc')).toBe(before + 1);
    session.destroy();
  });

  it('accepts only 0 and 1 as the compressed flag', async () => {
    const session = await grpcSession();
    const r = await call(session, message(traceRequest(1), 2));
    expect(r.status).toBe('13'); // INTERNAL, as grpc-go answers
    expect(decodeURIComponent(r.message ?? '')).toBe(
      'invalid gRPC compressed flag 2 (must be 0 or 1)',
    );
    session.destroy();
  });

  it('takes a grpc-timeout beyond what a timer can wait as a far deadline (not 1 ms)', async () => {
    const session = await grpcSession();
    const r = await call(session, message(traceRequest(1)), { 'grpc-timeout': '99999999H' });
    expect(r.status).toBe('0');
    session.destroy();
  });

  it('closes the oldest silent connection when every slot is taken and a client calls', async () => {
    const silent = await Promise.all(Array.from({ length: MAX }, () => grpcSession()));
    const first = new Promise((resolve) => silent[0]!.once('close', resolve));
    const session = await grpcSession();
    expect((await call(session, message(traceRequest(1)))).status).toBe('0');
    await first;
    for (const s of [...silent, session]) s.destroy();
  });
});

// Node fires a timer of more than 2^31-1 ms after 1 ms: with these settings at 1000h the gRPC
// receiver closed every new connection and cancelled every call slower than a millisecond.
describe('timeouts of 1000h: wait 24.8 days (the longest a timer waits), not 1 ms', () => {
  it('serves the SDK exporters over gRPC and HTTP', async () => {
    const grpcExport = new Promise<number>((resolve) =>
      new GrpcTraces({ url: `http://${far.grpc}` }).export(makeSpans('cart', [{}]), (r) =>
        resolve(r.code),
      ),
    );
    expect(await grpcExport).toBe(0);
    expect(await sdkExport(`http://${far.http}/v1/traces`)).toBe(0);
  });

  it('takes a gRPC message sent in two parts 50 ms apart, on a connection silent for 50 ms', async () => {
    const session = await grpcSession(far.grpc);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await call(session, message(traceRequest(3)), {}, true, 50)).toEqual({
      status: '0',
      message: undefined,
    });
    session.destroy();
  });
});

describe('shutdown with a body still arriving', () => {
  it('answers it 503 with Retry-After and finishes, instead of waiting for the client', async () => {
    // Once the server is closed, Node no longer checks requestTimeout: a body trickling in held
    // the shutdown (and the drain of everything accepted) for as long as the client kept sending.
    const own = await startTestSidecar(sidecarYaml('10s', '30s'), { factories: [capture] });
    const s = await connect(own.http);
    const answer = closed(s);
    s.write(
      'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\n',
    );
    s.write(Buffer.alloc(10));
    const trickle = setInterval(() => s.writable && s.write(Buffer.alloc(1)), 100);
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await own.shutdown();
      expect(await answer).toMatch(/^HTTP\/1\.1 503 [^]*\r\nRetry-After: 1\r\n/);
    } finally {
      clearInterval(trickle);
      s.destroy();
    }
  });

  it('answers a gRPC message still arriving UNAVAILABLE, instead of waiting the whole grace', async () => {
    // A call trickling in held the shutdown, and the drain behind it, for the 30 s grace: as
    // long as Docker waits before SIGKILL (10 s by default).
    const own = await startTestSidecar(sidecarYaml('10s', '30s'), { factories: [capture] });
    const session = await grpcSession(own.grpc);
    const partial = Buffer.concat([framePrefix(1000, false), Buffer.alloc(10)]);
    const answer = call(session, partial, {}, false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await own.shutdown();
    const r = await answer;
    session.destroy();
    expect(r.status).toBe('14'); // UNAVAILABLE, with RetryInfo
    expect(decodeURIComponent(r.message ?? '')).toBe(
      'the receiver is shutting down; send the call again',
    );
  });
});
