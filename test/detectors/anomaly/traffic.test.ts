import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../../src/admin/admin-extension.js';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Capture } from '../helpers/capture-exporter.js';
import { standaloneDetector } from '../helpers/detector.js';
import { Random } from '../helpers/random.js';
import { startTestSidecar } from '../helpers/sidecar.js';
import { traceRequest, type SpanSpec } from '../helpers/traces.js';
import { H, MIN, MONDAY, play, taggedBy } from './rates-helpers.js';
import { useSidecarFixture } from '../../helpers/sidecar-fixture.js';

/**
 * The traffic detector: per key and hour, the spans a minute; a surge tags the operation's spans
 * `anomaly.detector=traffic`, a drop is recorded in the history without a span.
 */
describe('traffic surges and drops', () => {
  let dir: string;
  let clock: FakeClock;
  let d: AnomalyDetector;
  const r = new Random(5);
  // Monday 08:00-10:00 learned; on Tuesday 09:00-09:40 the hour runs as usual, then the test:
  // judged against 09:00 over all days (Tuesday's own bucket has 40 minutes, not 60 yet).
  const LEARN_FROM = MONDAY + 8 * H;
  const TUESDAY = MONDAY + 24 * H + 9 * H;
  const TEST_AT = TUESDAY + 40 * MIN;
  const learn = (name?: string) => {
    const spans = play(d, clock, LEARN_FROM, 120, 60, checkout(name));
    return [...spans, ...play(d, clock, TUESDAY, 40, 60, checkout(name))];
  };
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
    const learning = learn();
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
    // About 60: judged against the hour over all days, whose minutes it also learns.
    expect(a['anomaly.traffic.baseline_rate']).toBeGreaterThan(55);
    expect(a['anomaly.traffic.baseline_rate']).toBeLessThan(70);
    expect(a['anomaly.baseline.scope']).toBe('hour');
    expect(a['anomaly.traffic.ratio']).toBeGreaterThan(4);
    expect(d.history({ limit: 1 })[0]).toMatchObject({
      detector: 'traffic',
      reason: 'traffic_surge',
    });
  });

  it('records a stopped flow once, without a span, within two minutes', () => {
    learn();
    // Another operation keeps the sidecar busy; checkout stops at TEST_AT.
    const stop = TEST_AT;
    play(d, clock, stop, 6, 60, checkout('GET /other'));
    // Oldest first: recorded at its first quiet minute, again only when worse.
    const drops = d
      .history({ limit: 100 })
      // (the night between the two days of this test's traffic has a drop of its own at 08:59)
      .filter((a) => a.reason === 'traffic_drop' && a.startMs >= stop)
      .reverse();
    expect(drops.length).toBeGreaterThanOrEqual(1);
    expect(drops.length).toBeLessThanOrEqual(4);
    for (let k = 1; k < drops.length; k++) {
      expect(drops[k]!.severity).toBeLessThan(drops[k - 1]!.severity);
    }
    const [drop] = drops;
    expect(drop).toMatchObject({
      traceId: '',
      spanId: '',
      service: 'checkout',
      operation: 'POST /checkout',
      detector: 'traffic',
      startMs: stop,
      windowEndMs: stop + MIN,
    });
    expect(drop!.observedRate).toBeLessThanOrEqual(1);
    expect(Math.min(...drops.map((x) => x.severity))).toBeLessThanOrEqual(3);
    expect(drop!.expectedRate).toBeGreaterThan(50);
    expect(drop!.recordedAt - stop).toBeLessThanOrEqual(2 * MIN);
    // Back, then gone again: a second record.
    play(d, clock, stop + 6 * MIN, 5, 60, checkout());
    clock.set(stop + 14 * MIN);
    d.flush();
    const again = d
      .history({ limit: 100 })
      .filter((a) => a.reason === 'traffic_drop' && a.startMs >= stop);
    expect(again.length).toBeGreaterThan(drops.length);
    expect(again[0]!.startMs).toBeGreaterThanOrEqual(stop + 11 * MIN);
  });

  it('raises nothing for an operation always quiet at that hour, nor with traffic.enabled: false', async () => {
    play(d, clock, LEARN_FROM, 120, 4, checkout('GET /rare'));
    play(d, clock, TUESDAY, 40, 4, checkout('GET /rare'));
    clock.set(TEST_AT + 10 * MIN);
    d.flush();
    expect(d.history({ limit: 1000 }).filter((a) => a.detector === 'traffic')).toEqual([]);
    await d.shutdown();
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'hourglass-traffic-'));
    clock = new FakeClock(LEARN_FROM);
    await start({ traffic: { enabled: false } });
    learn();
    const storm = play(d, clock, TEST_AT, 2, 300, checkout());
    expect(taggedBy(storm, 'traffic')).toEqual([]);
    clock.set(TEST_AT + 10 * MIN);
    d.flush();
    expect(d.history({ limit: 100 }).filter((a) => a.detector === 'traffic')).toEqual([]);
  });
});

describe('admin API: a traffic drop in the anomaly history', () => {
  const f = useSidecarFixture('hourglass-drop-api-');

  it('serves it with null ids, no Jaeger link, the expected and observed rates, and opens an incident', async () => {
    const from = MONDAY + 8 * H;
    const clock = new FakeClock(from);
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db') },
      factories: [new Capture().factory],
      extensions: {
        admin: { endpoint: '127.0.0.1:0', jaeger_ui_url: 'http://localhost:16686' },
      },
    });
    const base = `http://${f.sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    const entry = f.sidecar.service.pipelineEntries.get('traces')!;
    // 30 calls a minute, one request per 10 s: Monday 08:00-10:00 and Tuesday 09:00-09:40; then
    // nothing for 3 minutes.
    const tuesday = from + 25 * H;
    const send = async (a: number, b: number) => {
      for (let t = a; t < b; t += 10_000) {
        const list: SpanSpec[] = Array.from({ length: 5 }, (_, i) => ({
          service: 'shop',
          name: 'POST /order',
          startMs: t + i * 2000,
          durationMs: 30,
        }));
        clock.set(t + 10_000);
        await entry.consume({ signal: 'traces', bytes: traceRequest(list), items: list.length });
      }
    };
    await send(from, from + 120 * MIN);
    await send(tuesday, tuesday + 40 * MIN);
    const stop = tuesday + 40 * MIN;
    clock.set(stop + 3 * MIN);
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
        window: {
          start: new Date(stop).toISOString(),
          end: new Date(stop + MIN).toISOString(),
        },
      },
    });
    expect(drop!.traffic.baseline_per_minute).toBeCloseTo(30, 0);
    expect(drop!.jaeger_url).toBeUndefined();
    // It opened an incident of its own, so it reaches the notifications.
    const incidents = (await (await fetch(`${base}/api/v1/incidents?service=shop`)).json()) as {
      incidents: Record<string, any>[];
    };
    expect(incidents.incidents).toContainEqual(
      expect.objectContaining({
        status: 'open',
        reason: 'traffic_drop',
        origin: expect.objectContaining({ service: 'shop', operation: 'POST /order' }),
      }),
    );
  });
});
