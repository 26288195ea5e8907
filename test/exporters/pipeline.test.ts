import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import { startFromConfig, type Sidecar } from '../../src/main.js';
import type { OtlpReceiver } from '../../src/receiver/otlp/otlp-receiver.js';
import { ObservedClock, memoryLogger, useTempDirs, useTestbed } from './harness.js';
import { traceBatch } from './batches.js';

/**
 * The exporters inside a running sidecar: the real receiver in front, the sink behind. What the
 * client sees when the queue is full or Jaeger is down, and that data acknowledged with 200 while
 * Jaeger was down is delivered after a restart with a persistent queue.
 */
const bed = useTestbed();
const tempDir = useTempDirs('hourglass-pipeline-');
const running: Sidecar[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown()));
});

async function sidecar(exporter: string): Promise<{ sidecar: Sidecar; url: string }> {
  const yaml = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
${exporter}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp/jaeger]
`;
  const config = await loadConfigText(
    yaml,
    'pipeline.yaml',
    staticResolver(builtinFactories()),
    {},
  );
  const s = await startFromConfig(config, {
    clock: new ObservedClock(),
    logger: memoryLogger().logger,
  });
  running.push(s);
  const receiver = s.service.find<OtlpReceiver>('receiver', 'otlp')!;
  return { sidecar: s, url: `http://${receiver.addresses().http!}/v1/traces` };
}

function post(url: string, bytes: Uint8Array): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: bytes,
  });
}

describe('exporters in a running sidecar', () => {
  it('a full sending queue makes the receiver answer 429 with Retry-After', async () => {
    bed.sink.answerAll({ hang: true });
    const { url } = await sidecar(`
  otlphttp/jaeger:
    endpoint: ${bed.sink.httpEndpoint}
    timeout: 500ms
    retry_on_failure: { initial_interval: 3s }
    sending_queue: { queue_size: 2, num_consumers: 1 }`);
    expect((await post(url, traceBatch(1).bytes)).status).toBe(200);
    await bed.sink.waitForRequests(1);
    expect((await post(url, traceBatch(1).bytes)).status).toBe(200);
    const refused = await post(url, traceBatch(1).bytes);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
  });

  it('without a queue, Jaeger down makes the receiver answer 503', async () => {
    await bed.sink.stop();
    const { url } = await sidecar(`
  otlphttp/jaeger:
    endpoint: ${bed.sink.httpEndpoint}
    retry_on_failure: { enabled: false }
    sending_queue: { enabled: false }`);
    const res = await post(url, traceBatch(1).bytes);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
  });

  it('with a persistent queue, spans answered 200 while Jaeger was down arrive after a restart', async () => {
    const storage = tempDir();
    const exporter = `
  otlphttp/jaeger:
    endpoint: ${bed.sink.httpEndpoint}
    sending_queue: { storage: ${storage} }`;
    await bed.sink.stop();
    const first = await sidecar(exporter);
    const sdk = new OTLPTraceExporter({ url: first.url });
    const spans = finishedSpans(3, 4);
    for (const batch of spans) {
      const result = await new Promise<{ code: number }>((resolve) => sdk.export(batch, resolve));
      expect(result.code).toBe(0);
    }
    await sdk.shutdown();
    await first.sidecar.shutdown();

    await bed.sink.restart();
    await sidecar(exporter);
    await bed.sink.waitFor(12);
    expect(bed.sink.spanIds().sort()).toEqual(
      spans
        .flat()
        .map((s) => s.spanContext().spanId)
        .sort(),
    );
  });
});

/** `batches` groups of `n` finished SDK spans. */
function finishedSpans(batches: number, n: number): ReadableSpan[][] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'cart' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('pipeline-test');
  const out: ReadableSpan[][] = [];
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < n; i++) tracer.startSpan(`op-${b}-${i}`).end();
    out.push(memory.getFinishedSpans().slice());
    memory.reset();
  }
  return out;
}
