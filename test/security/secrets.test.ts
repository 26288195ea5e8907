import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { assertBuilt, SidecarProcess } from '../helpers/process.js';
import { validTraffic } from './harness.js';

/**
 * Credentials in exporter URLs (`http://user:pass@host`) never reach the logs, as bearer tokens
 * and authorization headers do not: the sidecar as a child process, one exporter whose downstream
 * is down (it warns, naming the endpoint) and one that is up (it sends the credentials as Basic
 * auth, as the Collector's Go HTTP client does).
 */
beforeAll(() => assertBuilt());

const SECRET = 'pa55-s3cr3t-in-url';
let sink: OtlpSink;
let sidecar: SidecarProcess;
let http: string;

beforeAll(async () => {
  sink = await OtlpSink.start();
  const ports = await OtlpSink.start();
  http = ports.httpEndpoint.replace('http://', '');
  const down = ports.grpcEndpoint; // closed below: nothing listens there
  await ports.close();
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-secrets-'));
  const file = join(dir, 'otel-config.yaml');
  writeFileSync(
    file,
    `
receivers:
  otlp: { protocols: { http: { endpoint: ${http} } } }
exporters:
  otlphttp/up: { endpoint: 'http://collector:${SECRET}@${sink.httpEndpoint.replace('http://', '')}', compression: none }
  otlphttp/down:
    endpoint: 'http://collector:${SECRET}@${down}'
    retry_on_failure: { enabled: false }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp/up, otlphttp/down] }
  telemetry: { logs: { level: debug }, metrics: { level: none } }
`,
  );
  sidecar = new SidecarProcess(['run', '--config', file]);
  await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
}, 30_000);

afterAll(async () => {
  sidecar?.kill('SIGKILL');
  await sidecar?.exited;
  await sink?.close();
});

it('never logs credentials written in an exporter URL, and sends them as Basic auth', async () => {
  await validTraffic(http, 1, 5).catch(() => undefined); // the down exporter fails the export
  await sink.waitFor(5);
  const warned = await sidecar.waitForLog((l) => l.msg.startsWith('cannot export to'));
  expect(warned.msg).toContain('http://[REDACTED]@127.0.0.1:');
  expect(sidecar.stderrText).not.toContain(SECRET);
  expect(sink.requests[0]!.headers['authorization']).toBe(
    `Basic ${Buffer.from(`collector:${SECRET}`).toString('base64')}`,
  );
});
