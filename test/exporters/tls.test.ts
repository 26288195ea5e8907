import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Exporter } from '../../src/component/component.js';
import { UnavailableError } from '../../src/component/errors.js';
import type { ExporterFactory } from '../../src/component/factory.js';
import { otlpExporterFactory } from '../../src/exporters/otlp/factory.js';
import { otlpHttpExporterFactory } from '../../src/exporters/otlphttp/factory.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { traceBatch } from './batches.js';
import { HOST, harness } from './harness.js';

/** The exporters' TLS settings against a sink that speaks TLS with a test CA's certificate. */
const tlsFile = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url));

let sink: OtlpSink;
const open: Exporter[] = [];
beforeEach(async () => {
  sink = await OtlpSink.start({
    tls: { cert: readFileSync(tlsFile('server.crt')), key: readFileSync(tlsFile('server.key')) },
  });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.shutdown()));
  await sink.close();
});

async function send(factory: ExporterFactory<any>, raw: Record<string, unknown>): Promise<unknown> {
  const h = harness(factory.type);
  const exporter = factory.create(
    h.settings,
    factory.configSchema.parse({
      ...raw,
      timeout: '2s',
      retry_on_failure: { enabled: false },
      sending_queue: { enabled: false },
    }),
    'traces',
  );
  open.push(exporter);
  await exporter.start(HOST);
  return exporter.consume(traceBatch(2)).catch((e: unknown) => e);
}

const grpc = (tls: Record<string, unknown>) =>
  send(otlpExporterFactory, { endpoint: sink.grpcEndpoint, tls });
const http = (tls: Record<string, unknown>) =>
  send(otlpHttpExporterFactory, { endpoint: sink.httpEndpoint, tls });

describe.each([
  ['otlp (gRPC)', grpc],
  ['otlphttp (HTTPS)', http],
])('%s over TLS', (_name, exportWith) => {
  it('delivers when the server certificate verifies against ca_file', async () => {
    expect(await exportWith({ ca_file: tlsFile('ca.crt') })).toBeUndefined();
    expect(sink.items()).toBe(2);
  });

  it('fails (retryable) when the certificate does not verify against the system roots', async () => {
    const err = await exportWith({});
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/certificate/i);
    expect(sink.items()).toBe(0);
  });

  it('delivers with insecure_skip_verify', async () => {
    expect(await exportWith({ insecure_skip_verify: true })).toBeUndefined();
    expect(sink.items()).toBe(2);
  });

  it('checks the name in server_name_override', async () => {
    expect(
      await exportWith({ ca_file: tlsFile('ca.crt'), server_name_override: 'localhost' }),
    ).toBeUndefined();
    const err = await exportWith({
      ca_file: tlsFile('ca.crt'),
      server_name_override: 'jaeger.example',
    });
    expect(err).toBeInstanceOf(UnavailableError);
    expect(sink.items()).toBe(2);
  });
});

it('tells which TLS file it cannot read, at start', async () => {
  const h = harness('otlp');
  const exporter = otlpExporterFactory.create(
    h.settings,
    otlpExporterFactory.configSchema.parse({
      endpoint: sink.grpcEndpoint,
      tls: { ca_file: '/nonexistent/ca.pem' },
    }),
    'traces',
  );
  open.push(exporter);
  await expect(exporter.start(HOST)).rejects.toThrow(
    'tls.ca_file: cannot read "/nonexistent/ca.pem" (ENOENT)',
  );
});
