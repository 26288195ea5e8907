import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureExporterFactory } from '../../helpers/capture-exporter.js';
import { startTestSidecar, type TestSidecar } from '../../helpers/sidecar.js';
import { makeSpans } from '../../helpers/spans.js';

/** TLS, mutual TLS and bearer tokens on the receivers, with the SDK's own exporters as clients. */
const tls = (name: string) => new URL(`../../fixtures/tls/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(tls(name));
const capture = captureExporterFactory();
let sidecar: TestSidecar;

beforeAll(async () => {
  sidecar = await startTestSidecar(
    `
extensions:
  bearertokenauth:
    token: \${env:TOKEN}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
        tls: { cert_file: ${tls('server.crt')}, key_file: ${tls('server.key')}, client_ca_file: ${tls('ca.crt')} }
        auth: { authenticator: bearertokenauth }
      http:
        endpoint: 127.0.0.1:0
        tls: { cert_file: ${tls('server.crt')}, key_file: ${tls('server.key')} }
        auth: { authenticator: bearertokenauth }
exporters:
  capture:
service:
  extensions: [bearertokenauth]
  pipelines:
    traces: { receivers: [otlp], exporters: [capture] }
  telemetry: { metrics: { level: none } }
`,
    { factories: [capture], env: { TOKEN: 'not-in-the-logs' } },
  );
});
afterAll(() => sidecar?.shutdown());

type Result = { code: number; error?: Error };
const send = (exporter: { export: (s: ReadableSpan[], cb: (r: Result) => void) => void }) =>
  new Promise<Result>((resolve) => exporter.export(makeSpans('secure', [{}]), resolve));

describe('OTLP/HTTP over TLS with a bearer token', () => {
  const url = () => `https://localhost:${sidecar.http.split(':')[1]}/v1/traces`;

  it('accepts a client that trusts the CA and sends the token', async () => {
    const before = capture.instances.get('capture/traces')!.items();
    const r = await send(
      new ProtoTraces({
        url: url(),
        headers: { Authorization: 'Bearer not-in-the-logs' },
        httpAgentOptions: { ca: read('ca.crt') },
      }),
    );
    expect(r.code).toBe(0);
    expect(capture.instances.get('capture/traces')!.items()).toBe(before + 1);
  });

  it('answers 401 without the token', async () => {
    const res = await fetch(url().replace('localhost', '127.0.0.1').replace('https', 'http'), {
      method: 'POST',
    }).catch((e: Error) => e);
    expect(res).toBeInstanceOf(Error); // plaintext is not served on the TLS port
    const r = await send(new ProtoTraces({ url: url(), httpAgentOptions: { ca: read('ca.crt') } }));
    expect(r.code).toBe(1);
    expect((r.error as Error & { code?: number }).code).toBe(401);
  });
});

describe('OTLP/gRPC over mutual TLS with a bearer token', () => {
  const url = () => `https://localhost:${sidecar.grpc.split(':')[1]}`;
  const metadata = () => {
    const m = new grpc.Metadata();
    m.set('authorization', 'Bearer not-in-the-logs');
    return m;
  };

  it('accepts a client with a certificate signed by client_ca_file and the token', async () => {
    const r = await send(
      new GrpcTraces({
        url: url(),
        metadata: metadata(),
        credentials: grpc.credentials.createSsl(
          read('ca.crt'),
          read('client.key'),
          read('client.crt'),
        ),
      }),
    );
    expect(r.code).toBe(0);
  });

  it('refuses a client without a certificate', async () => {
    const r = await send(
      new GrpcTraces({
        url: url(),
        metadata: metadata(),
        credentials: grpc.credentials.createSsl(read('ca.crt')),
      }),
    );
    expect(r.code).toBe(1);
  });

  it('answers UNAUTHENTICATED with a wrong token', async () => {
    const m = new grpc.Metadata();
    m.set('authorization', 'Bearer guess');
    const r = await send(
      new GrpcTraces({
        url: url(),
        metadata: m,
        credentials: grpc.credentials.createSsl(
          read('ca.crt'),
          read('client.key'),
          read('client.crt'),
        ),
      }),
    );
    expect(r.code).toBe(1);
    expect((r.error as grpc.ServiceError | undefined)?.code).toBe(grpc.status.UNAUTHENTICATED);
  });
});
