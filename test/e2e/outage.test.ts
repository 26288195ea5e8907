import { setImmediate as tick } from 'node:timers/promises';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { makeSpans } from '../helpers/spans.js';

/**
 * Jaeger down for ten minutes, with the exporter's default retry settings: every span the sidecar
 * answered 200 during the outage is delivered once Jaeger is back. The sidecar's clock is
 * simulated (retry waits pass in milliseconds); the network, the SDK and the sink are real.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Moves the sidecar's clock forward in steps, letting real I/O (failed connects, exports) run. */
async function advance(clock: FakeClock, ms: number, stepMs = 1000): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(stepMs);
    for (let i = 0; i < 5; i++) await tick();
  }
}

describe('a ten-minute outage of Jaeger', () => {
  it('delivers every acknowledged span after recovery, with the default retry settings', async () => {
    const jaeger = await OtlpSink.start();
    await jaeger.stop();
    cleanups.push(() => jaeger.close());
    const clock = new FakeClock(Date.now());
    const sidecar: TestSidecar = await startTestSidecar(
      `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
exporters:
  otlp/jaeger:
    endpoint: ${jaeger.grpcEndpoint}
    tls: { insecure: true }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp/jaeger] }
  telemetry: { metrics: { level: none } }
`,
      { clock },
    );
    cleanups.push(() => sidecar.shutdown());
    const exporter = new OTLPTraceExporter({ url: `http://${sidecar.http}/v1/traces` });
    cleanups.push(() => exporter.shutdown());

    const acknowledged = new Set<string>();
    // Twenty exports, one every 30 simulated seconds: ten minutes of outage.
    for (let i = 0; i < 20; i++) {
      const spans = makeSpans(
        'checkout',
        Array.from({ length: 25 }, () => ({})),
      );
      const result = await new Promise<{ code: number }>((resolve) =>
        exporter.export(spans, resolve),
      );
      expect(result.code).toBe(0);
      for (const s of spans) acknowledged.add(s.spanContext().spanId);
      await advance(clock, 30_000);
    }
    expect(jaeger.items()).toBe(0);

    await jaeger.restart();
    // The longest backoff (max_interval, 30s) passes; queued batches go out.
    const delivered = jaeger.waitForSpans(acknowledged, 20_000);
    let done = false;
    void delivered.then(() => (done = true));
    for (let i = 0; i < 120 && !done; i++) await advance(clock, 1000, 500);
    await delivered;
    expect(new Set(jaeger.spanIds())).toEqual(acknowledged);
  });
});
