import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { assertBuilt, SidecarProcess } from '../helpers/process.js';
import { makeSpans } from '../helpers/spans.js';

/**
 * Overload: more data than the downstream takes. The sidecar answers 429 with Retry-After instead
 * of growing (a full sending queue, or memory above the memory_limiter's soft limit), the SDK's
 * own retry sends the data again, every span arrives, and the sidecar's resident memory never
 * passes the configured limit.
 */
beforeAll(() => assertBuilt());
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SPIKE_MIB = 150;

async function start(
  queueSize: number,
  sink: OtlpSink,
  limitMib = 1024,
): Promise<{ sidecar: SidecarProcess; http: string; telemetry: string }> {
  const ports = await OtlpSink.start();
  const http = ports.httpEndpoint.replace('http://', '');
  const telemetry = ports.grpcEndpoint;
  await ports.close();
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-overload-'));
  const file = join(dir, 'otel-config.yaml');
  writeFileSync(
    file,
    `
receivers:
  otlp:
    protocols:
      http: { endpoint: ${http} }
processors:
  memory_limiter: { check_interval: 100ms, limit_mib: ${limitMib}, spike_limit_mib: ${SPIKE_MIB} }
exporters:
  otlp/jaeger:
    endpoint: ${sink.grpcEndpoint}
    tls: { insecure: true }
    compression: none
    retry_on_failure: { initial_interval: 500ms }
    sending_queue: { queue_size: ${queueSize}, num_consumers: 1 }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter], exporters: [otlp/jaeger] }
  telemetry:
    logs: { level: info }
    metrics: { address: ${telemetry} }
`,
  );
  const sidecar = new SidecarProcess(['run', '--config', file]);
  cleanups.push(() => sidecar.kill('SIGKILL'));
  await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
  return { sidecar, http, telemetry };
}

/**
 * Sends `exports` SDK exports of `spans` spans (made before sending, so the burst arrives at once
 * whatever this process's speed), `concurrency` at a time, with the SDK's own retry.
 */
async function load(
  http: string,
  exports: number,
  spans: number,
  concurrency: number,
  attributeBytes = 0,
): Promise<Set<string>> {
  const exporter = new OTLPTraceExporter({
    url: `http://${http}/v1/traces`,
    timeoutMillis: 30_000,
  });
  const attributes =
    attributeBytes > 0 ? { 'http.request.body': 'x'.repeat(attributeBytes) } : undefined;
  const batches: ReadableSpan[][] = Array.from({ length: exports }, () =>
    makeSpans(
      'checkout',
      Array.from({ length: spans }, () => ({ attributes })),
    ),
  );
  const sent = new Set<string>();
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let batch = batches.pop(); batch; batch = batches.pop()) {
        const spansOf = batch;
        const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
          exporter.export(spansOf, resolve),
        );
        if (result.code === 0) for (const s of spansOf) sent.add(s.spanContext().spanId);
        else failures.push(String(result.error?.message));
      }
    }),
  );
  await exporter.shutdown();
  expect(failures).toEqual([]);
  return sent;
}

const metric = async (telemetry: string, name: string) => {
  const text = await (await fetch(`http://${telemetry}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
};

const peakRssMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('overload', () => {
  it('a full sending queue answers 429, the SDK retries, every span arrives', async () => {
    const sink = await OtlpSink.start();
    cleanups.push(() => sink.close());
    sink.answerAll({ delayMs: 30 });
    const { sidecar, http, telemetry } = await start(16, sink);
    const sent = await load(http, 48, 512, 8);
    // Distinct span ids: a retried request delivers some twice, which must not end the wait early.
    await sink.waitForSpans(sent, 30_000);
    expect(new Set(sink.spanIds())).toEqual(sent);
    expect(await metric(telemetry, 'otelcol_exporter_enqueue_failed_spans_total')).toBeGreaterThan(
      0,
    );
    expect(sidecar.logs.some((l) => /sending queue .* is full/.test(l.msg))).toBe(true);
  }, 60_000);

  it('while Jaeger stalls, memory above the soft limit answers 429, the SDK retries, every span arrives, RSS stays under limit_mib', async () => {
    // The soft limit (limit - spike) is set 40 MiB above the sidecar's footprint (measured first,
    // warm); the burst sent while Jaeger stalls is about 100 MiB.
    const probe = await OtlpSink.start();
    cleanups.push(() => probe.close());
    const idle = await start(1000, probe);
    await load(idle.http, 4, 1024, 4, 1024);
    await probe.waitFor(4 * 1024);
    const live = await metric(idle.telemetry, 'otelcol_process_runtime_heap_alloc_bytes');
    idle.sidecar.kill('SIGTERM');
    await idle.sidecar.exited;
    const limitMib = Math.ceil(live / 1024 / 1024) + 40 + SPIKE_MIB;

    const sink = await OtlpSink.start();
    cleanups.push(() => sink.close());
    sink.answerNext(1, { delayMs: 3000 }); // Jaeger stalls for 3 s, then keeps up again.
    const { sidecar, http, telemetry } = await start(100_000, sink, limitMib);
    const sent = await load(http, 32, 2048, 8, 1024);
    await sink.waitForSpans(sent, 60_000);
    expect(new Set(sink.spanIds())).toEqual(sent);
    // Refused by the memory_limiter, or by the receiver before decoding while it refuses.
    const refused =
      (await metric(telemetry, 'otelcol_processor_refused_spans_total')) +
      (await metric(telemetry, 'hourglass_receiver_refused_requests_total'));
    expect(refused).toBeGreaterThan(0);
    expect(sidecar.logs.some((l) => /above the soft limit/.test(l.msg))).toBe(true);
    expect(peakRssMiB(sidecar.pid)).toBeLessThan(limitMib);
  }, 90_000);
});
