import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../../src/main.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Capture } from '../helpers/capture-exporter.js';
import { Random } from '../helpers/random.js';
import { detectorOf, httpEndpoint, startTestSidecar } from '../helpers/sidecar.js';
import { decodeSpans, type DecodedSpan } from '../helpers/traces.js';
import { THR_STRIDE } from '../../../src/detectors/anomaly/internal/thr-layout.js';
import { meanAt } from '../../../src/detectors/anomaly/internal/moments.js';

const H = 3_600_000;
const DAY = 24 * H;
// Monday 2026-01-05 00:00 in Europe/Berlin (CET, UTC+1).
const WEEK0 = Date.UTC(2026, 0, 4, 23);
const WEEKS = 4;
const PER_HOUR = 60;

/** An exact SDK time (HrTime) of `startMs` (whole ms) plus `plusMs` (whole microseconds). */
function hr(startMs: number, plusMs = 0): [number, number] {
  const nanos = (startMs % 1000) * 1e6 + Math.round(plusMs * 1e6);
  return [Math.floor(startMs / 1000) + Math.floor(nanos / 1e9), nanos % 1e9];
}

/** Median latency of GET /cart by local day-of-week (0 = Monday) and hour. */
function medianMs(dow: number, hour: number): number {
  if (dow === 5 && hour === 3) return 1200; // Saturday 03:00: the weekly batch job
  if (dow < 5 && hour >= 8 && hour <= 10) return 120; // weekday rush
  if (hour < 6) return 40; // nights
  return 70;
}

/**
 * Weeks of seasonal traffic through the real OpenTelemetry JS SDK (OTLP/HTTP protobuf exporter) into
 * the real receiver, the anomaly processor with its nightly recalculations on a fake clock, and a
 * capture exporter. Then a span 10x slower than its Monday 09:00 baseline, and the same duration
 * at a naturally slow hour.
 */
describe('anomaly detection end to end, through the OpenTelemetry SDK', () => {
  let dir: string;
  let sidecar: Sidecar;
  let provider: TracerProvider;
  const capture = new Capture();
  const clock = new FakeClock(WEEK0);
  /** Durations sent for GET /cart in the Monday 09:00 bucket. */
  const mondayNine: number[] = [];
  let sent = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-e2e-'));
    sidecar = await startTestSidecar({
      clock,
      anomaly: {
        storage: join(dir, 'hg.db'),
        timezone: 'Europe/Berlin',
        flush_interval: '1m',
      },
      factories: [capture.factory],
    });
    provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout' }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${httpEndpoint(sidecar)}/v1/traces` }),
          maxQueueSize: 20_000,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 3_600_000,
        }),
      ],
    });
    const tracer = provider.getTracer('e2e');
    const r = new Random(2026);
    for (let day = 0; day < WEEKS * 7; day++) {
      // The day is over before its spans arrive; the flushes and the 03:00 recalculation run.
      clock.set(WEEK0 + (day + 1) * DAY + 5 * 60_000);
      await detectorOf(sidecar).idle();
      const dow = day % 7;
      for (let hour = 0; hour < 24; hour++) {
        for (let i = 0; i < PER_HOUR; i++) {
          const start = WEEK0 + day * DAY + hour * H + i * 60_000;
          const d = Math.round(r.latency(medianMs(dow, hour), 0.15) * 1000) / 1000;
          const span = tracer.startSpan('GET /cart', {
            kind: SpanKind.SERVER,
            startTime: hr(start),
          });
          span.setAttribute('http.route', '/cart');
          span.end(hr(start, d));
          if (dow === 0 && hour === 9) mondayNine.push(d);
          // The database call under it: a CLIENT span, a key of its own.
          const db = tracer.startSpan('SELECT carts', {
            kind: SpanKind.CLIENT,
            startTime: hr(start),
          });
          db.end(hr(start, Math.round((d / 3) * 1000) / 1000));
          sent += 2;
        }
      }
      await provider.forceFlush();
    }
    await capture.waitForItems(sent);
    // Week 5, Monday 09:45 Berlin: the probes arrive.
    clock.set(WEEK0 + WEEKS * 7 * DAY + 9 * H + 45 * 60_000);
    await detectorOf(sidecar).idle();
    capture.clear();
  }, 120_000);

  afterAll(async () => {
    await provider?.shutdown();
    await sidecar?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends spans through the SDK and returns them as they left the sidecar, in order. */
  async function probe(
    spans: { start: number; durationMs: number; error?: boolean }[],
  ): Promise<DecodedSpan[]> {
    const tracer = provider.getTracer('e2e');
    for (const s of spans) {
      const span = tracer.startSpan('GET /cart', { kind: SpanKind.SERVER, startTime: hr(s.start) });
      span.setAttribute('http.route', '/cart');
      if (s.error) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(hr(s.start, s.durationMs));
    }
    await provider.forceFlush();
    await capture.waitForItems(spans.length);
    const out = capture.batches.flatMap((b) => decodeSpans(b.bytes));
    capture.clear();
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  it('learned the weekly profile, with adaptive thresholds from the nightly recalculations', () => {
    const key = detectorOf(sidecar).model.get('checkout', 'GET /cart', 2)!;
    expect(key.count(9)).toBeGreaterThan(WEEKS * PER_HOUR * 0.99); // Monday 09:00
    expect(key.count(199)).toBeGreaterThan(WEEKS * 7 * 24 * PER_HOUR * 0.99);
    expect(detectorOf(sidecar).model.get('checkout', 'SELECT carts', 3)!.count(9)).toBeGreaterThan(
      200,
    );
    // 240 samples per dow_hour bucket: enough to learn its thresholds (not the fixed ones).
    expect(Number.isNaN(key.thr[9 * THR_STRIDE]!)).toBe(false);
  });

  it('tags a span 10x slower than its Monday 09:00 baseline SEV1 or SEV2, with correct values', async () => {
    const key = detectorOf(sidecar).model.get('checkout', 'GET /cart', 2)!;
    const learnedCount = key.count(9);
    // What the baseline holds: every Monday 09:00 span except SEV1/SEV2 ones (kept out of it).
    const mean = meanAt(key.m, 9);
    const all = mondayNine.reduce((a, b) => a + b, 0) / mondayNine.length;
    expect(Math.abs(mean - all) / all).toBeLessThan(0.01);
    const learnedValues = mondayNine
      .slice()
      .sort((a, b) => a - b)
      .slice(0, learnedCount);
    const exactMean = learnedValues.reduce((a, b) => a + b, 0) / learnedCount;
    const sd = Math.sqrt(
      learnedValues.reduce((a, b) => a + (b - exactMean) ** 2, 0) / (learnedCount - 1),
    );

    const monday = WEEK0 + WEEKS * 7 * DAY;
    const slow = Math.round(10 * mean * 1000) / 1000;
    const [normal, tagged] = await probe([
      { start: monday + 9 * H + 10 * 60_000, durationMs: 118 }, // Monday 09:10 Berlin, typical
      { start: monday + 9 * H + 30 * 60_000, durationMs: slow }, // Monday 09:30 Berlin, 10x
    ]);
    expect(normal!.attributeKeys).toEqual(['http.route']);
    const a = tagged!.attributes;
    expect(['SEV1', 'SEV2']).toContain(a['anomaly.severity']);
    expect(a['anomaly.severity_number']).toBe(Number(String(a['anomaly.severity']).slice(3)));
    expect(a['anomaly.severity_label']).toBe(
      a['anomaly.severity'] === 'SEV1' ? 'critical' : 'major',
    );
    expect(a['anomaly.detector']).toBe('latency');
    expect(a['anomaly.baseline.scope']).toBe('dow_hour');
    expect(a['anomaly.baseline.window']).toBe('Mon 09:00-10:00 Europe/Berlin');
    expect(a['anomaly.baseline.samples']).toBe(learnedCount);
    if (learnedCount === mondayNine.length) {
      expect(a['anomaly.baseline.mean_ms']).toBeCloseTo(exactMean, 6);
      expect(a['anomaly.baseline.stddev_ms']).toBeCloseTo(sd, 6);
    }
    expect(a['anomaly.ratio']).toBeCloseTo(slow / (a['anomaly.baseline.mean_ms'] as number), 6);
    expect(a['anomaly.score']).toBeCloseTo(
      (slow - (a['anomaly.baseline.mean_ms'] as number)) /
        (a['anomaly.baseline.stddev_ms'] as number),
      4,
    );
    // p99 of the bucket, from its quantile sketch (1% accuracy), as of the last recalculation.
    const sorted = mondayNine.slice().sort((x, y) => x - y);
    const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
    expect(Math.abs((a['anomaly.baseline.p99_ms'] as number) - p99) / p99).toBeLessThan(0.03);
    expect(tagged!.attributeKeys[0]).toBe('http.route');
    expect(tagged!.durationMs).toBeCloseTo(slow, 3);
  });

  it('does not tag the same duration at a naturally slow hour', async () => {
    const key = detectorOf(sidecar).model.get('checkout', 'GET /cart', 2)!;
    const slow = 10 * meanAt(key.m, 9);
    // Saturday 03:30 Berlin of the last week: the batch job hour, where ~1200 ms is normal.
    const saturday = WEEK0 + (WEEKS - 1) * 7 * DAY + 5 * DAY + 3 * H + 30 * 60_000;
    const [span] = await probe([{ start: saturday, durationMs: slow }]);
    expect(span!.attributeKeys).toEqual(['http.route']);
  });

  it('tags a slow failure (a timeout) but neither tags nor learns a fast one', async () => {
    const key = detectorOf(sidecar).model.get('checkout', 'GET /cart', 2)!;
    const before = key.count(9);
    const monday = WEEK0 + WEEKS * 7 * DAY;
    const [fast, timeout] = await probe([
      { start: monday + 9 * H + 35 * 60_000, durationMs: 2, error: true },
      { start: monday + 9 * H + 36 * 60_000, durationMs: 30_000, error: true },
    ]);
    expect(fast!.attributeKeys).toEqual(['http.route']);
    expect(timeout!.attributes['anomaly.severity']).toBe('SEV1');
    expect(key.count(9)).toBe(before);
  });

  it('tags clean traffic at about the configured rates once the buckets are learned', () => {
    // The last week: every bucket has three weeks of its own history and learned thresholds.
    const lastWeek = WEEK0 + (WEEKS - 1) * 7 * DAY;
    const tagged = detectorOf(sidecar).history({ sinceMs: lastWeek, limit: 100_000 });
    const spans = 7 * 24 * PER_HOUR * 2;
    expect(tagged.length).toBeLessThan(spans * 0.02); // SEV5 or worse: ~1% by design
    expect(tagged.filter((t) => t.severity <= 2).length).toBeLessThan(spans * 0.001);
  });
});
