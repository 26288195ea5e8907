import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../../src/admin/admin-extension.js';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import type { Sidecar } from '../../../src/main.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Capture } from '../helpers/capture-exporter.js';
import { standaloneDetector } from '../helpers/detector.js';
import { Random } from '../helpers/random.js';
import { startTestSidecar } from '../helpers/sidecar.js';
import { traceRequest, type SpanSpec } from '../helpers/traces.js';
import { H, MIN, MONDAY, play, taggedBy } from './rates-helpers.js';

/**
 * The traffic detector: per key and hour, the spans a minute; a surge tags the operation's spans
 * `anomaly.detector=traffic`, a drop is recorded in the history without a span.
 */
describe('traffic surges and drops', () => {
  let dir: string;
  let clock: FakeClock;
  let d: AnomalyDetector;
  const r = new Random(5);
  const LEARN_FROM = MONDAY + 8 * H;
  const TEST_AT = MONDAY + 9 * H + 40 * MIN;
  const checkout =
    (name = 'POST /checkout') =>
    () => ({
      name,
      durationMs: r.latency(40, 0.2),
    });

  async function start(settings: Record<string, unknown> = {}) {
    d = await standaloneDetector(join(dir, 'hg.db'), settings, clock);
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-traffic-'));
    clock = new FakeClock(LEARN_FROM);
    await start();
  });
  afterEach(async () => {
    await d.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tags the spans of a 5x surge with the current and usual rates, and nothing before it', () => {
    const learning = play(d, clock, LEARN_FROM, 100, 60, checkout());
    expect(taggedBy(learning, 'traffic')).toEqual([]);
    const storm = play(d, clock, TEST_AT, 3, 300, checkout());
    const tagged = taggedBy(storm, 'traffic');
    // The first 20 s or so fill the minute's window; from then on every span is tagged.
    expect(tagged.length).toBeGreaterThan(storm.length * 0.8);
    expect(taggedBy(storm.slice(-300), 'traffic').length).toBe(300);
    const a = tagged[tagged.length - 1]!.span.attributes;
    expect(a['anomaly.severity_number']).toBeLessThanOrEqual(2);
    expect(a['anomaly.reason']).toBe('traffic_surge');
    expect(a['anomaly.traffic.rate']).toBeGreaterThan(250);
    expect(a['anomaly.traffic.baseline_rate']).toBeCloseTo(60, 0);
    expect(a['anomaly.traffic.ratio']).toBeGreaterThan(4);
    expect(d.history({ limit: 1 })[0]).toMatchObject({
      detector: 'traffic',
      reason: 'traffic_surge',
    });
  });

  it('records a stopped flow once, without a span, within two minutes', () => {
    play(d, clock, LEARN_FROM, 100, 60, checkout());
    // Another operation keeps the sidecar busy; checkout stops at TEST_AT.
    const stop = LEARN_FROM + 100 * MIN;
    play(d, clock, stop, 6, 60, checkout('GET /other'));
    const drops = d.history({ limit: 100 }).filter((a) => a.reason === 'traffic_drop');
    expect(drops).toHaveLength(1);
    const [drop] = drops;
    expect(drop).toMatchObject({
      traceId: '',
      spanId: '',
      service: 'checkout',
      operation: 'POST /checkout',
      detector: 'traffic',
      observedRate: 0,
      startMs: stop,
      windowEndMs: stop + MIN,
    });
    expect(drop!.severity).toBeLessThanOrEqual(3);
    expect(drop!.expectedRate).toBeCloseTo(60, 0);
    expect(drop!.recordedAt - stop).toBeLessThanOrEqual(2 * MIN);
    // Back, then gone again: a second record.
    play(d, clock, stop + 6 * MIN, 5, 60, checkout());
    clock.set(stop + 14 * MIN);
    d.flush();
    expect(d.history({ limit: 100 }).filter((a) => a.reason === 'traffic_drop')).toHaveLength(2);
  });

  it('raises nothing for an operation always quiet at that hour, nor with traffic.enabled: false', async () => {
    play(d, clock, LEARN_FROM, 100, 4, checkout('GET /rare'));
    clock.set(LEARN_FROM + 110 * MIN);
    d.flush();
    expect(d.history({ limit: 1000 }).filter((a) => a.detector === 'traffic')).toEqual([]);
    await d.shutdown();
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'hourglass-traffic-'));
    clock = new FakeClock(LEARN_FROM);
    await start({ traffic: { enabled: false } });
    play(d, clock, LEARN_FROM, 100, 60, checkout());
    const storm = play(d, clock, TEST_AT, 2, 300, checkout());
    expect(taggedBy(storm, 'traffic')).toEqual([]);
    clock.set(TEST_AT + 10 * MIN);
    d.flush();
    expect(d.history({ limit: 100 }).filter((a) => a.detector === 'traffic')).toEqual([]);
  });
});

describe('admin API: a traffic drop in the anomaly history', () => {
  let dir: string;
  let sidecar: Sidecar | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-drop-api-'));
  });
  afterEach(async () => {
    await sidecar?.shutdown();
    sidecar = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves it with null ids, no Jaeger link, and the expected and observed rates', async () => {
    const from = MONDAY + 8 * H;
    const clock = new FakeClock(from);
    sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: join(dir, 'hg.db') },
      factories: [new Capture().factory],
      extensions: {
        admin: { endpoint: '127.0.0.1:0', jaeger_ui_url: 'http://localhost:16686' },
      },
    });
    const base = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    const entry = sidecar.service.pipelineEntries.get('traces')!;
    // 100 minutes of 30 calls a minute, one request per 10 s; then nothing for 3 minutes.
    for (let t = from; t < from + 100 * MIN; t += 10_000) {
      const list: SpanSpec[] = Array.from({ length: 5 }, (_, i) => ({
        service: 'shop',
        name: 'POST /order',
        startMs: t + i * 2000,
        durationMs: 30,
      }));
      clock.set(t + 10_000);
      await entry.consume({ signal: 'traces', bytes: traceRequest(list), items: list.length });
    }
    clock.set(from + 103 * MIN);
    const res = await fetch(`${base}/api/v1/anomalies?service=shop`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { anomalies: Record<string, any>[] };
    const drop = body.anomalies.find((a) => a.reason === 'traffic_drop');
    expect(drop).toMatchObject({
      trace_id: null,
      span_id: null,
      service: 'shop',
      operation: 'POST /order',
      detector: 'traffic',
      duration_ms: 60_000,
      traffic: {
        per_minute: 0,
        window: {
          start: new Date(from + 100 * MIN).toISOString(),
          end: new Date(from + 101 * MIN).toISOString(),
        },
      },
    });
    expect(drop!.traffic.baseline_per_minute).toBeCloseTo(30, 0);
    expect(drop!.jaeger_url).toBeUndefined();
  });
});
