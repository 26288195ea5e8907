import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../../src/main.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Capture } from '../helpers/capture-exporter.js';
import { Random } from '../helpers/random.js';
import { detectorOf, httpEndpoint, startTestSidecar } from '../helpers/sidecar.js';
import { decodeSpans } from '../helpers/traces.js';
import { meanAt } from '../../../src/detectors/anomaly/internal/moments.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;

const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

/**
 * Express 5 under the current JS auto-instrumentation (loaded as ESM): its server spans are named
 * only by the HTTP method, with the route in `http.route` and the path (ids included) in
 * `url.path`. Through the real SDK and its OTLP exporter: `/fast` (25 ms) and `/pay` (50 ms) must
 * get baselines of their own, so that a +500 ms slowdown of `/pay` is read against `/pay`'s.
 */
describe('keys that follow the semantic conventions, through the OpenTelemetry SDK', () => {
  let dir: string;
  let sidecar: Sidecar;
  let provider: TracerProvider;
  const capture = new Capture();
  const clock = new FakeClock(MONDAY + 12 * H);
  const r = new Random(10);

  function serverSpan(route: string, path: string, start: number, ms: number): void {
    const span = provider.getTracer('@opentelemetry/instrumentation-http').startSpan('GET', {
      kind: SpanKind.SERVER,
      startTime: hr(start),
      attributes: {
        'http.request.method': 'GET',
        'http.route': route,
        'url.path': path,
        'url.scheme': 'http',
        'server.address': 'shop',
        'http.response.status_code': 200,
      },
    });
    span.end(hr(start + ms));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-semconv-'));
    sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: join(dir, 'hg.db'), flush_interval: '1m' },
      factories: [capture.factory],
    });
    provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'shop' }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${httpEndpoint(sidecar)}/v1/traces` }),
          maxQueueSize: 10_000,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 3_600_000,
        }),
      ],
    });
    // An hour of mixed traffic, Monday 09:00.
    for (let i = 0; i < 400; i++) {
      const start = MONDAY + 9 * H + i * 8000;
      serverSpan('/fast', `/fast`, start, Math.round(r.latency(25, 0.1)));
      serverSpan('/pay', `/pay/${1000 + i}`, start + 1000, Math.round(r.latency(50, 0.1)));
    }
    await provider.forceFlush();
    await capture.waitForItems(800);
    capture.clear();
  }, 60_000);

  afterAll(async () => {
    await provider?.shutdown();
    await sidecar?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives GET spans with different routes baselines of their own, never one per path', () => {
    const keys = detectorOf(sidecar).keys({ service: 'shop' });
    expect(keys.map((k) => [k.operation, k.kind, k.count()])).toEqual([
      ['GET /fast', 2, 400],
      ['GET /pay', 2, 400],
    ]);
    const mean = (k: (typeof keys)[number]) => meanAt(k.m, 199);
    expect(mean(keys[0]!)).toBeCloseTo(25, -0.5);
    expect(mean(keys[1]!)).toBeCloseTo(50, -0.5);
  });

  it("reads a +500 ms slowdown of /pay against /pay's baseline, and names the key in the history", async () => {
    // 11x /pay's median: 400 spans without a shape (no recalculation yet) tag an order of
    // magnitude as rare as 1 in 40,000 (SEV2), a smaller span no rarer than 1 in 400.
    serverSpan('/pay', '/pay/5000', MONDAY + 9 * H + 55 * 60_000, 550);
    serverSpan('/fast', '/fast', MONDAY + 9 * H + 55 * 60_000 + 10, 26);
    await provider.forceFlush();
    await capture.waitForItems(2);
    const spans = capture.batches.flatMap((b) => decodeSpans(b.bytes));
    const pay = spans.find((s) => s.attributes['http.route'] === '/pay')!;
    const fast = spans.find((s) => s.attributes['http.route'] === '/fast')!;
    // The span keeps its own name: only the key is formed from the route.
    expect(pay.name).toBe('GET');
    expect(pay.attributes['anomaly.severity_number']).toBeLessThanOrEqual(2);
    expect(pay.attributes['anomaly.baseline.mean_ms']).toBeCloseTo(50, -0.5);
    expect(fast.attributes['anomaly.severity']).toBeUndefined();
    const [record] = detectorOf(sidecar).history({ service: 'shop', limit: 10 });
    expect(record?.operation).toBe('GET /pay');
  });
});
