import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { SidecarProcess } from '../helpers/process.js';
import { makeSpans } from '../helpers/spans.js';

/**
 * The sidecar under attack: the built CLI as a child process on 127.0.0.1, exporting traces and
 * metrics to a real OTLP sink, with a memory_limiter, an admin API behind a bearer token and, when
 * asked, a lowered open-file limit. Used by the security tests (`npm test`, small counts) and by
 * `npm run bench:security` (the counts of issue 17).
 */
export interface Target {
  readonly sidecar: SidecarProcess;
  readonly sink: OtlpSink;
  readonly http: string;
  readonly grpc: string;
  readonly telemetry: string;
  readonly admin: string;
  readonly limitMib: number;
  /** Highest resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  rssMiB(): number;
  alive(): boolean;
  stop(): Promise<void>;
}

export interface TargetOptions {
  readonly limitMib?: number;
  /** The process's open-file limit (prlimit), as a small container would have. */
  readonly fdLimit?: number;
  /** Extra receiver settings, per protocol (YAML flow mappings without braces). */
  readonly grpc?: string;
  readonly http?: string;
  /** The CLI to run: the build under test by default (bench: a reference build to compare). */
  readonly cli?: string;
}

export const ADMIN_TOKEN = 'admin-s3cret';

/** Sidecars still running, killed if this process exits first (no orphan keeps its ports). */
const running = new Set<SidecarProcess>();
process.once('exit', () => {
  for (const s of running) s.kill('SIGKILL');
});

async function freeAddresses(n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const s = await OtlpSink.start();
    out.push(s.grpcEndpoint, s.httpEndpoint.replace('http://', ''));
    await s.close();
  }
  return out.slice(0, n);
}

export async function startTarget(options: TargetOptions = {}): Promise<Target> {
  const limitMib = options.limitMib ?? 512;
  const sink = await OtlpSink.start();
  const [grpc, http, telemetry, admin] = (await freeAddresses(4)) as [
    string,
    string,
    string,
    string,
  ];
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-hostile-'));
  const file = join(dir, 'otel-config.yaml');
  writeFileSync(
    file,
    `
extensions:
  bearertokenauth: { token: ${ADMIN_TOKEN} }
  admin: { endpoint: ${admin}, auth: { authenticator: bearertokenauth } }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: ${grpc}${options.grpc ? `, ${options.grpc}` : ''} }
      http: { endpoint: ${http}${options.http ? `, ${options.http}` : ''} }
processors:
  memory_limiter: { check_interval: 200ms, limit_mib: ${limitMib} }
  anomaly: { storage: ${join(dir, 'hourglass.db')} }
  batch: { timeout: 200ms }
exporters:
  otlp/sink:
    endpoint: ${sink.grpcEndpoint}
    tls: { insecure: true }
    compression: none
service:
  extensions: [bearertokenauth, admin]
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter, anomaly], exporters: [otlp/sink] }
    metrics: { receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp/sink] }
  telemetry:
    logs: { level: info }
    metrics: { address: ${telemetry} }
`,
  );
  const sidecar = new SidecarProcess(
    ['run', '--config', file],
    {},
    {
      ...(options.cli === undefined ? {} : { cli: options.cli }),
      // Set before node starts, so that defaults derived from it (max_connections) follow it.
      ...(options.fdLimit === undefined
        ? {}
        : { prefix: ['prlimit', `--nofile=${options.fdLimit}:${options.fdLimit}`] }),
    },
  );
  running.add(sidecar);
  void sidecar.exited.then(() => running.delete(sidecar));
  await sidecar.waitForLog((l) => l.msg === 'hourglass is running', 30_000);
  const status = (field: string) =>
    Number(
      new RegExp(`${field}:\\s+(\\d+)`).exec(
        readFileSync(`/proc/${sidecar.pid}/status`, 'utf8'),
      )![1],
    ) / 1024;
  return {
    sidecar,
    sink,
    http,
    grpc,
    telemetry,
    admin,
    limitMib,
    peakRssMiB: () => status('VmHWM'),
    rssMiB: () => status('VmRSS'),
    alive: () => sidecar.running,
    stop: async () => {
      sidecar.kill('SIGKILL');
      await sidecar.exited;
      await sink.close();
    },
  };
}

/**
 * Valid traffic next to an attack: `exports` SDK exports of `spans` spans each, over OTLP/HTTP
 * protobuf with the SDK's own retry; the span ids of those answered with success.
 */
export async function validTraffic(
  http: string,
  exports: number,
  spans: number,
): Promise<Set<string>> {
  const exporter = new OTLPTraceExporter({
    url: `http://${http}/v1/traces`,
    timeoutMillis: 30_000,
  });
  const sent = new Set<string>();
  for (let i = 0; i < exports; i++) {
    const batch = makeSpans(
      'checkout',
      Array.from({ length: spans }, () => ({})),
    );
    const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
      exporter.export(batch, resolve),
    );
    if (result.code !== 0)
      throw new Error(`a valid export failed: ${String(result.error?.message)}`);
    for (const s of batch) sent.add(s.spanContext().spanId);
  }
  await exporter.shutdown();
  return sent;
}

/** A counter or gauge of the sidecar's /metrics, summed over its series. */
export async function metric(telemetry: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${telemetry}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)`, 'gm'))].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

/** /healthz latencies (ms) sampled every `everyMs` until `stop` resolves. */
export async function healthzLatencies(
  telemetry: string,
  stop: Promise<unknown>,
  everyMs = 50,
): Promise<number[]> {
  const out: number[] = [];
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    const t0 = performance.now();
    const res = await fetch(`http://${telemetry}/healthz`);
    await res.arrayBuffer();
    out.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return out;
}
