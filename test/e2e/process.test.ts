import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hexAt, indexSpans } from '../../src/otlp/trace-index.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { assertBuilt, runCli, SidecarProcess } from '../helpers/process.js';
import { makeSpans, traceRequest } from '../helpers/spans.js';

/**
 * The built sidecar as an operator runs it (`node dist/cli.js`): validate, start with no Jaeger
 * reachable, drain on SIGTERM, and keep every acknowledged span across a SIGKILL with a persistent
 * queue. Span ids are counted end to end.
 */
beforeAll(() => assertBuilt());

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-process-'));
  const file = join(dir, 'otel-config.yaml');
  writeFileSync(file, yaml);
  return file;
}

async function freePorts(): Promise<{ grpc: string; http: string; telemetry: string }> {
  const s = await OtlpSink.start();
  const t = await OtlpSink.start();
  const ports = {
    grpc: s.grpcEndpoint,
    http: s.httpEndpoint.replace('http://', ''),
    telemetry: t.grpcEndpoint,
  };
  await s.close();
  await t.close();
  return ports;
}

function config(
  ports: { grpc: string; http: string; telemetry: string },
  exporter: string,
  processors = '[batch]',
): string {
  return tempConfig(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: ${ports.grpc} }
      http: { endpoint: ${ports.http} }
processors:
  batch: { timeout: 10s, send_batch_size: 100000 }
exporters:
${exporter}
service:
  pipelines:
    traces: { receivers: [otlp], processors: ${processors}, exporters: [otlp/jaeger] }
  telemetry:
    logs: { level: info }
    metrics: { address: ${ports.telemetry} }
`);
}

async function post(http: string, body: Uint8Array): Promise<number> {
  const res = await fetch(`http://${http}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

const ids = (bytes: Uint8Array) => indexSpans(bytes).spans.map((s) => hexAt(bytes, s.spanIdAt, 8));

describe('hourglass validate', () => {
  it('accepts the shipped otel-config.yaml', async () => {
    const r = await runCli(['validate', '--config', 'otel-config.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^otel-config\.yaml: valid \(/);
  });

  it('prints every problem with its path and exits 1', async () => {
    const file = tempConfig(
      'receivers:\n  otlp:\n    protocols: {}\nexporters:\n  otlp:\n    endpoint: nowhere\nservice:\n  pipelines:\n    traces: { receivers: [otlp], exporters: [otlp, debug] }\n',
    );
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${file}: 3 problem(s):\n` +
        '  receivers.otlp.protocols: enable at least one protocol: grpc or http\n' +
        '  exporters.otlp.endpoint: "nowhere" is not a host:port address such as "jaeger:4317"\n' +
        '  service.pipelines.traces.exporters: references exporter "debug" which is not configured\n',
    );
  });

  it('refuses to run with an invalid config, exiting 1 with the problems', async () => {
    const file = tempConfig('service: {}\n');
    const r = await runCli(['run', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('service.pipelines: expected a mapping of pipelines');
  });
});

describe('secrets', () => {
  it('never appear in the logs, at debug level, through failures and shutdown', async () => {
    const SECRET = 'sk-test-7f3a9c1e5b2d';
    const jaeger = await OtlpSink.start();
    await jaeger.stop(); // exports fail: the failure is logged
    cleanups.push(() => jaeger.close());
    const ports = await freePorts();
    // The summaries' store in a temporary directory, not ./data of the checkout (the default).
    const data = mkdtempSync(join(tmpdir(), 'hourglass-process-'));
    const file = tempConfig(`
extensions:
  bearertokenauth:
    token: ${SECRET}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${ports.http}
        auth: { authenticator: bearertokenauth }
exporters:
  otlp/jaeger:
    endpoint: ${jaeger.grpcEndpoint}
    tls: { insecure: true }
    headers: { authorization: Bearer ${SECRET}, x-api-key: ${SECRET} }
    retry_on_failure: { initial_interval: 100ms }
connectors:
  llm_summary:
    provider: openai
    endpoint: http://127.0.0.1:1
    model: gpt-test
    api_key: ${SECRET}
    storage: ${data}/summaries.db
service:
  extensions: [bearertokenauth]
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp/jaeger, llm_summary] }
    traces/summaries: { receivers: [llm_summary], exporters: [otlp/jaeger] }
  telemetry:
    logs: { level: debug }
    metrics: { address: ${ports.telemetry} }
`);
    const sidecar = new SidecarProcess(['run', '--config', file]);
    cleanups.push(() => sidecar.kill('SIGKILL'));
    await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
    const send = (token: string) =>
      fetch(`http://${ports.http}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
        body: traceRequest(5),
      }).then((r) => r.status);
    expect(await send('wrong')).toBe(401);
    expect(await send(SECRET)).toBe(200);
    await sidecar.waitForLog((l) => l.level === 'warn' && /cannot export to/.test(l.msg));
    sidecar.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(sidecar.logs.length).toBeGreaterThan(5);
    expect(sidecar.stderrText).not.toContain(SECRET);
    expect(sidecar.stdout).not.toContain(SECRET);
  });
});

describe('hourglass run', () => {
  it('starts without Jaeger, says so once, keeps retrying, delivers when Jaeger comes, drains on SIGTERM', async () => {
    const jaeger = await OtlpSink.start();
    await jaeger.stop(); // Jaeger is not there yet; its port is kept for later.
    cleanups.push(() => jaeger.close());
    const ports = await freePorts();
    const file = config(
      ports,
      `  otlp/jaeger:\n    endpoint: ${jaeger.grpcEndpoint}\n    tls: { insecure: true }\n    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms }`,
      '[]',
    );
    const sidecar = new SidecarProcess(['run', '--config', file]);
    cleanups.push(() => sidecar.kill('SIGKILL'));
    await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
    expect((await fetch(`http://${ports.telemetry}/readyz`)).status).toBe(200);

    const sent = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const body = traceRequest(20);
      for (const id of ids(body)) sent.add(id);
      expect(await post(ports.http, body)).toBe(200);
    }
    await sidecar.waitForLog((l) => l.level === 'warn' && /cannot export to/.test(l.msg));
    await jaeger.restart();
    await jaeger.waitForSpans(sent);
    await sidecar.waitForLog((l) => /recovered after \d+ failed attempt/.test(l.msg));
    const warnings = sidecar.logs.filter(
      (l) => l.level === 'warn' && /cannot export to/.test(l.msg),
    );
    expect(warnings).toHaveLength(1);
    expect(new Set(jaeger.spanIds())).toEqual(sent);

    sidecar.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(sidecar.logs.map((l) => l.msg)).toContain('shutdown complete');
  });

  it('on SIGTERM sends what the batch processor holds before exiting 0', async () => {
    const jaeger = await OtlpSink.start();
    cleanups.push(() => jaeger.close());
    const ports = await freePorts();
    const file = config(
      ports,
      `  otlp/jaeger:\n    endpoint: ${jaeger.grpcEndpoint}\n    tls: { insecure: true }`,
    );
    const sidecar = new SidecarProcess(['run', '--config', file]);
    cleanups.push(() => sidecar.kill('SIGKILL'));
    await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
    const spans = makeSpans(
      'checkout',
      Array.from({ length: 30 }, () => ({})),
    );
    const exporter = new OTLPTraceExporter({ url: `http://${ports.http}/v1/traces` });
    await new Promise<void>((resolve, reject) =>
      exporter.export(spans, (r) => (r.code === 0 ? resolve() : reject(r.error))),
    );
    expect(jaeger.items()).toBe(0); // held by the batch processor (timeout 10s)
    sidecar.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(new Set(jaeger.spanIds())).toEqual(new Set(spans.map((s) => s.spanContext().spanId)));
  });

  it('with a persistent queue, every span answered 200 survives a SIGKILL and is delivered after restart', async () => {
    const jaeger = await OtlpSink.start();
    await jaeger.stop();
    cleanups.push(() => jaeger.close());
    const ports = await freePorts();
    const storage = mkdtempSync(join(tmpdir(), 'hourglass-queue-'));
    const file = config(
      ports,
      `  otlp/jaeger:\n    endpoint: ${jaeger.grpcEndpoint}\n    tls: { insecure: true }\n    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms }\n    sending_queue: { storage: ${storage} }`,
      '[]',
    );
    const first = new SidecarProcess(['run', '--config', file]);
    cleanups.push(() => first.kill('SIGKILL'));
    await first.waitForLog((l) => l.msg === 'hourglass is running');
    const acknowledged = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const body = traceRequest(25);
      if ((await post(ports.http, body)) === 200) for (const id of ids(body)) acknowledged.add(id);
    }
    expect(acknowledged.size).toBe(500);
    first.kill('SIGKILL');
    expect(await first.exited).toBe(null);

    await jaeger.restart();
    const second = new SidecarProcess(['run', '--config', file]);
    cleanups.push(() => second.kill('SIGKILL'));
    await jaeger.waitForSpans(acknowledged, 20_000);
    for (const id of acknowledged) expect(jaeger.spanIds()).toContain(id);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
