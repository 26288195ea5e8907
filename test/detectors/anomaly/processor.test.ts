import { beforeEach, describe, expect, it } from 'vitest';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import { RefusedError } from '../../../src/component/errors.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { detectorOf, startTestSidecar } from '../helpers/sidecar.js';
import { Random } from '../helpers/random.js';
import {
  cartAtNine,
  cartDayBefore,
  decodeSpans,
  MONDAY,
  traceRequest,
  wholeNanos,
  type SpanSpec,
} from '../helpers/traces.js';
import { useSidecarFixture } from '../../helpers/sidecar-fixture.js';
import { meanAt } from '../../../src/detectors/anomaly/internal/moments.js';

const H = 3_600_000;

/** 40 spans on Monday 09:xx, 90..110 ms: mean 100. */
const mondayNine = (n = 40, extra: Partial<SpanSpec> = {}) => cartAtNine(n, extra);

function batch(spans: SpanSpec[]): OtlpBatch {
  return { signal: 'traces', bytes: traceRequest(spans), items: spans.length };
}

function moments(values: number[]) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  return { mean, sd };
}

describe('anomaly processor', () => {
  const f = useSidecarFixture('hourglass-anomaly-');
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock(MONDAY + 12 * H);
  });

  async function start(settings: Record<string, unknown> = {}) {
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db'), ...settings },
      factories: [f.capture.factory],
    });
    return f.sidecar.service.pipelineEntries.get('traces')!;
  }

  it('forwards the very same batch object while nothing is anomalous', async () => {
    const entry = await start();
    const b = batch(mondayNine());
    await entry.consume(b);
    expect(f.capture.batches).toHaveLength(1);
    expect(f.capture.batches[0]).toBe(b);
    // And after learning, a normal batch is still passed through untouched.
    const normal = batch(mondayNine(5));
    await entry.consume(normal);
    expect(f.capture.batches[1]).toBe(normal);
  });

  it('tags an anomalous span with exactly the DESIGN.md attributes and leaves the others unchanged', async () => {
    // Its one SEV1 span opens an incident at once (no second trace to wait for), so that every
    // attribute DESIGN.md names is on it.
    const entry = await start({ incidents: { sev1_confirm_within: '0s' } });
    await entry.consume(batch(cartDayBefore()));
    const learned = mondayNine();
    await entry.consume(batch(learned));
    const probe: SpanSpec[] = [
      { name: 'GET /cart', startMs: MONDAY + 9 * H + 30 * 60_000, durationMs: 101 },
      {
        name: 'GET /cart',
        startMs: MONDAY + 9 * H + 31 * 60_000,
        durationMs: 1000,
        attributes: { 'http.route': '/cart' },
      },
      { name: 'GET /health', startMs: MONDAY + 9 * H, durationMs: 1 },
    ];
    const sent = batch(probe);
    await entry.consume(sent);
    const out = f.capture.batches[2]!;
    expect(out).not.toBe(sent);
    expect(out.items).toBe(3);
    const before = decodeSpans(sent.bytes);
    const after = decodeSpans(out.bytes);
    expect(after[0]).toEqual(before[0]);
    expect(after[2]).toEqual(before[2]);
    const { mean, sd } = moments(learned.map((s) => s.durationMs));
    const slow = after[1]!;
    expect(slow.attributeKeys).toEqual([
      'http.route',
      'anomaly.severity',
      'anomaly.severity_number',
      'anomaly.severity_label',
      'anomaly.detector',
      'anomaly.reason',
      'anomaly.score',
      'anomaly.ratio',
      'anomaly.baseline.mean_ms',
      'anomaly.baseline.stddev_ms',
      'anomaly.baseline.p99_ms',
      'anomaly.baseline.samples',
      'anomaly.baseline.scope',
      'anomaly.baseline.window',
      // A SEV1 span opens an incident (incidents/README.md, here at once): the last attribute names it.
      'anomaly.incident_id',
    ]);
    const a = slow.attributes;
    expect(a['http.route']).toBe('/cart');
    expect(a['anomaly.severity']).toBe('SEV1');
    expect(a['anomaly.severity_number']).toBe(1);
    expect(a['anomaly.severity_label']).toBe('critical');
    expect(a['anomaly.detector']).toBe('latency');
    expect(a['anomaly.score']).toBeCloseTo((1000 - mean) / sd, 9);
    expect(a['anomaly.ratio']).toBeCloseTo(1000 / mean, 12);
    expect(a['anomaly.baseline.mean_ms']).toBeCloseTo(mean, 12);
    expect(a['anomaly.baseline.stddev_ms']).toBeCloseTo(sd, 9);
    // No recalculation yet: p99 is estimated from mean and stddev.
    expect(a['anomaly.baseline.p99_ms']).toBeCloseTo(mean + 2.326 * sd, 9);
    expect(a['anomaly.baseline.samples']).toBe(40);
    expect(a['anomaly.baseline.scope']).toBe('dow_hour');
    expect(a['anomaly.baseline.window']).toBe('Mon 09:00-10:00 UTC');
    expect(a['anomaly.incident_id']).toMatch(/^inc-[0-9a-z]+-[0-9a-f]{12}$/);
    expect({ ...slow, attributes: undefined, attributeKeys: undefined }).toEqual({
      ...before[1],
      attributes: undefined,
      attributeKeys: undefined,
    });
  });

  it('falls back to hour of day, day of week and global, and names the scope used', async () => {
    const entry = await start();
    await entry.consume(batch(mondayNine()));
    const at = (day: number, hour: number) => MONDAY + day * 24 * H + hour * H + 5 * 60_000;
    await entry.consume(
      batch([
        { name: 'GET /cart', startMs: at(1, 9), durationMs: 900 }, // Tuesday 09:05
        { name: 'GET /cart', startMs: at(0, 15), durationMs: 900 }, // Monday 15:05
        { name: 'GET /cart', startMs: at(-1, 15), durationMs: 900 }, // Sunday 15:05, the day before
      ]),
    );
    const tagged = decodeSpans(f.capture.batches[1]!.bytes).map((s) => [
      s.attributes['anomaly.baseline.scope'],
      s.attributes['anomaly.baseline.window'],
    ]);
    expect(tagged).toEqual([
      ['hour', 'daily 09:00-10:00 UTC'],
      ['dow', 'Mon 00:00-24:00 UTC'],
      ['global', 'all week UTC'],
    ]);
  });

  it('tags nothing while no level has min_samples', async () => {
    const entry = await start({ min_samples: 41 });
    await entry.consume(batch(mondayNine()));
    const slow = batch([{ name: 'GET /cart', startMs: MONDAY + 9 * H, durationMs: 5000 }]);
    await entry.consume(slow);
    expect(f.capture.batches[1]).toBe(slow);
  });

  it('does not tag tiny absolute changes (min_delta_ms) nor severities below min_severity', async () => {
    const entry = await start({ min_delta_ms: 5, min_severity: 'SEV2' });
    // A 1 ms operation (1.00 .. 1.04 ms), and the usual GET /cart.
    const fast = Array.from({ length: 40 }, (_, i) => ({
      name: 'SELECT',
      kind: 3,
      startMs: MONDAY + 9 * H + i * 1000,
      durationMs: 1 + (i % 5) / 100,
    }));
    await entry.consume(batch([...fast, ...mondayNine(), ...cartDayBefore()]));
    const probe = batch([
      { name: 'SELECT', kind: 3, startMs: MONDAY + 9 * H, durationMs: 3 }, // 3x, but +2 ms
      { name: 'GET /cart', startMs: MONDAY + 9 * H, durationMs: 130 }, // ~5 sigma: SEV3 (cold-start thresholds)
      { name: 'GET /cart', startMs: MONDAY + 9 * H, durationMs: 2000 }, // SEV1
    ]);
    await entry.consume(probe);
    const sev = decodeSpans(f.capture.batches[1]!.bytes).map(
      (s) => s.attributes['anomaly.severity'],
    );
    expect(sev).toEqual([undefined, undefined, 'SEV1']);
  });

  it('claims no rarer severity for one span than the key has seen spans to support', async () => {
    const entry = await start();
    await entry.consume(batch(mondayNine()));
    // An error span: scored like any other, not learned, so each probe meets the same baseline.
    const probe = () => batch(mondayNine(1, { durationMs: 3000, status: 2 }));
    await entry.consume(probe());
    // 40 spans of history: a 30x span is rarer than anything seen, but not 1 in 100,000.
    expect(decodeSpans(f.capture.batches[1]!.bytes)[0]!.attributes['anomaly.severity']).toBe(
      'SEV3',
    );
    await entry.consume(batch(cartDayBefore().slice(0, 300)));
    await entry.consume(probe());
    expect(decodeSpans(f.capture.batches[3]!.bytes)[0]!.attributes['anomaly.severity']).toBe(
      'SEV2',
    );
    await entry.consume(batch(cartDayBefore()));
    await entry.consume(probe());
    expect(decodeSpans(f.capture.batches[5]!.bytes)[0]!.attributes['anomaly.severity']).toBe(
      'SEV1',
    );
  });

  it('claims no rarer than its spans show for a key without a shape, except an order of magnitude', async () => {
    const entry = await start();
    await entry.consume(batch(mondayNine())); // 40 spans, mean 99.5 ms: cold-start thresholds
    // Error spans: scored like any other, not learned, so each probe meets the same baseline.
    const probe = (durationMs: number) => batch(mondayNine(1, { durationMs, status: 2 }));
    const severity = async (durationMs: number) => {
      await entry.consume(probe(durationMs));
      const out = f.capture.batches[f.capture.batches.length - 1]!;
      return decodeSpans(out.bytes)[0]!.attributes['anomaly.severity'];
    };
    // 65 and 150 fixed standard deviations over the mean, but 5x and 9.95x: as rare as 40 spans
    // show (1 in 40, SEV5), not SEV1 and not the SEV3 that 40 x 100 spans would support.
    expect(await severity(500)).toBe('SEV5');
    expect(await severity(990)).toBe('SEV5');
    // 10x the median: an order of magnitude is at least moderate, as on a key with a shape.
    expect(await severity(1000)).toBe('SEV3');
  });

  it('learns only once the batch is accepted downstream', async () => {
    const entry = await start();
    f.capture.refuse = new RefusedError('queue full', 1000);
    await expect(entry.consume(batch(mondayNine()))).rejects.toThrow('queue full');
    const key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    expect(key.count()).toBe(0);
    f.capture.refuse = undefined;
    await entry.consume(batch(mondayNine()));
    expect(key.count()).toBe(40);
  });

  it('keeps error spans out of the baseline, and learns a severe span judged by the cold-start thresholds', async () => {
    const entry = await start();
    await entry.consume(batch(mondayNine()));
    // Errors that fail fast (1 ms) would drag the mean down: they are not learned.
    await entry.consume(batch(mondayNine(40, { durationMs: 1, status: 2 })));
    const key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    expect(key.count()).toBe(40);
    // A slow error span is still scored and tagged.
    await entry.consume(batch(mondayNine(1, { durationMs: 3000, status: 2 })));
    expect(decodeSpans(f.capture.batches[2]!.bytes)[0]!.attributes['anomaly.severity']).toBe(
      'SEV3',
    );
    // Against the fixed thresholds a severe span is still learned: a new bucket's tail is part of
    // its baseline (kept out, real tails of cache misses and timeouts never reached the sketches
    // that the first learned thresholds are read from, and every such span stayed severe). With 40
    // spans of history the key claims no more than SEV3 (SEV2 needs 200: two decades beyond).
    await entry.consume(batch(mondayNine(1, { durationMs: 3000 })));
    expect(decodeSpans(f.capture.batches[3]!.bytes)[0]!.attributes['anomaly.severity']).toBe(
      'SEV3',
    );
    expect(key.count()).toBe(41);
  });

  it('learns an isolated slow span once its bucket has learned thresholds', async () => {
    const entry = await start({ recalculation: { enabled: false } });
    const r = new Random(9);
    await entry.consume(
      batch(
        Array.from({ length: 2000 }, (_, i) => ({
          name: 'GET /cart',
          startMs: MONDAY + 9 * H + i * 1000,
          durationMs: wholeNanos(r.latency(100, 0.3)),
        })),
      ),
    );
    await detectorOf(f.sidecar!).recalculate();
    const key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    // The rare slow call is part of the normal tail: a baseline that never saw its tail would
    // read its percentiles ever lower (and fire ever more often).
    await entry.consume(batch(mondayNine(1, { durationMs: 3000 })));
    expect(decodeSpans(f.capture.batches.at(-1)!.bytes)[0]!.attributes['anomaly.severity']).toBe(
      'SEV1',
    );
    expect(key.count()).toBe(2001);
  });

  /**
   * Monday 09:00 learned (6,000 spans, two recalculations: percentiles, then what the key's level
   * does on normal traffic), then 200 spans 5x slower. Returns how many of those were learned and
   * how many were tagged SEV2 or worse.
   */
  async function sustainedSlowdown(settings: Record<string, unknown> = {}) {
    const entry = await start({ recalculation: { enabled: false }, ...settings });
    const detector = detectorOf(f.sidecar!);
    const r = new Random(8);
    const spans = (n: number, first: number, factor = 1) =>
      batch(
        Array.from({ length: n }, (_, i) => ({
          name: 'GET /cart',
          // Two a second: the level's spans span more than LEVEL_MIN_SPAN_MS within the hour.
          startMs: MONDAY + 9 * H + ((first + i) % 7200) * 500,
          durationMs: wholeNanos(factor * r.latency(100, 0.3)),
        })),
      );
    await entry.consume(spans(3000, 0));
    await detector.recalculate();
    await entry.consume(spans(3000, 3000));
    await detector.recalculate();
    const key = detector.model.get('checkout', 'GET /cart', 2)!;
    expect(key.level.thresholds).toBeDefined();
    const before = key.count();
    await entry.consume(spans(200, 6000, 5));
    const severe = decodeSpans(f.capture.batches.at(-1)!.bytes).filter(
      (s) => Number(s.attributes['anomaly.severity_number']) <= 2,
    );
    return { learned: key.count() - before, severe: severe.length };
  }

  it('keeps a sustained slowdown out of the baseline', async () => {
    // Once the key's level says the operation is 5x slower, its spans are tagged, not learned.
    const { learned, severe } = await sustainedSlowdown();
    expect(learned).toBeGreaterThan(0); // the first spans, before the level rose
    expect(learned).toBeLessThan(20);
    expect(severe).toBeGreaterThan(180);
  });

  it('learns severe spans scored against a fallback level, so a new bucket gets its own baseline', async () => {
    const entry = await start();
    await entry.consume(batch([...mondayNine(), ...cartDayBefore()]));
    // Monday 15:00 runs a slow report: against the Monday-wide baseline it looks like SEV1...
    const report = (n: number) =>
      batch(
        Array.from({ length: n }, (_, i) => ({
          name: 'GET /cart',
          startMs: MONDAY + 15 * H + i * 1000,
          durationMs: 1000 + i,
        })),
      );
    await entry.consume(report(30));
    const first = decodeSpans(f.capture.batches[1]!.bytes);
    expect(first.every((s) => s.attributes['anomaly.baseline.scope'] === 'dow')).toBe(true);
    expect(first[0]!.attributes['anomaly.severity']).toBe('SEV1');
    // ...but it is learned, and once the bucket has min_samples the report is normal there.
    const key = detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    expect(key.count(15)).toBe(30);
    const later = report(1);
    await entry.consume(later);
    expect(f.capture.batches[2]).toBe(later);
  });

  it("sets a key's first level thresholds at a flush once it has seen enough spans", async () => {
    const entry = await start({ recalculation: { enabled: false } });
    const detector = detectorOf(f.sidecar!);
    const r = new Random(10);
    const spans = (n: number, first: number) =>
      batch(
        Array.from({ length: n }, (_, i) => ({
          name: 'GET /cart',
          startMs: MONDAY + 9 * H + (first + i) * 1000,
          durationMs: wholeNanos(r.latency(100, 0.3)),
        })),
      );
    await entry.consume(spans(2000, 0));
    await detector.recalculate(); // percentiles, no level yet: nothing was scored against them
    const key = detector.model.get('checkout', 'GET /cart', 2)!;
    await entry.consume(spans(1200, 2000));
    expect(key.level.thresholds).toBeUndefined();
    clock.advance(10_000); // a flush: no need to wait for the nightly recalculation
    await detector.idle();
    expect(key.level.thresholds).toBeDefined();
  });

  it('learns errors when configured to', async () => {
    const entry = await start({ learn_from_errors: true });
    await entry.consume(batch(mondayNine()));
    await entry.consume(batch(mondayNine(2, { durationMs: 50, status: 2 })));
    expect(detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!.count()).toBe(42);
  });

  it('learns a sustained slowdown when configured to', async () => {
    const { learned, severe } = await sustainedSlowdown({ exclude_severe_from_baseline: false });
    expect(learned).toBe(200);
    expect(severe).toBeGreaterThan(180);
  });

  it('keys baselines by service, span name and span kind', async () => {
    const entry = await start();
    await entry.consume(
      batch([
        ...mondayNine(40, { service: 'cart', kind: 2 }),
        ...mondayNine(35, { service: 'cart', kind: 3, durationMs: 500 }),
        ...mondayNine(30, { service: 'shop', kind: 2, durationMs: 7 }),
      ]),
    );
    const model = detectorOf(f.sidecar!).model;
    expect(model.get('cart', 'GET /cart', 2)!.count()).toBe(40);
    expect(meanAt(model.get('cart', 'GET /cart', 3)!.m, 199)).toBe(500);
    expect(model.get('shop', 'GET /cart', 2)!.count()).toBe(30);
    expect(model.size).toBe(3);
  });

  it('stops tracking new keys at max_keys and counts the spans it could not score', async () => {
    const entry = await start({ max_keys: 1 });
    const b = batch([...mondayNine(3), ...mondayNine(2, { name: 'other' })]);
    await entry.consume(b);
    expect(f.capture.batches[0]).toBe(b);
    expect(detectorOf(f.sidecar!).model.size).toBe(1);
    // Spans of new services allocate nothing either.
    await entry.consume(batch(mondayNine(2, { service: 'another' })));
    expect(detectorOf(f.sidecar!).model.operations('another')).toBeUndefined();
    clock.advance(10_000); // a flush moves plain counters into the metrics
    const { registry } = f.sidecar!.metrics;
    const metric = await registry.getSingleMetric('hourglass_anomaly_dropped_total')!.get();
    expect(metric.values.find((v) => v.labels.reason === 'keys_limit')!.value).toBe(4);
  });

  it('forwards spans that end more than a day ahead of its clock unscored and unlearned, and counts them', async () => {
    const entry = await start();
    await entry.consume(batch(mondayNine()));
    const key = () => detectorOf(f.sidecar!).model.get('checkout', 'GET /cart', 2)!;
    expect(key().count()).toBe(40);
    const at = MONDAY + 9 * H + 50 * 60_000;
    const now = clock.now();
    const b = batch([
      // Ends 2 days after the clock (a client clock ahead), and at ~2^64 ns (OTLP/JSON's
      // "18446744073709551615"): neither can have ended yet.
      { name: 'GET /cart', startMs: at, durationMs: now + 2 * 24 * H - at },
      { name: 'GET /cart', startMs: at, durationMs: 1.8e13 - at },
      // Ends 23 hours after the clock: within the bound, scored (a very slow span) and learned.
      { name: 'GET /cart', startMs: at, durationMs: now + 23 * H - at },
    ]);
    await entry.consume(b);
    const out = decodeSpans(f.capture.batches[1]!.bytes);
    expect(out.map((s) => s.attributes['anomaly.severity'])).toEqual([
      undefined,
      undefined,
      expect.stringMatching(/^SEV[1-5]$/),
    ]);
    expect(key().count()).toBe(41);
    clock.advance(10_000); // a flush moves plain counters into the metrics
    const { registry } = f.sidecar!.metrics;
    const metric = await registry.getSingleMetric('hourglass_anomaly_spans_unscored_total')!.get();
    expect(metric.values.find((v) => v.labels.reason === 'ends_in_future')!.value).toBe(2);
  });

  it('forwards a batch untagged and counts the failure when scoring throws', async () => {
    const entry = await start();
    // Bytes the receiver would never let through: scanning them throws.
    const broken: OtlpBatch = { signal: 'traces', bytes: Uint8Array.from([0x0a, 0xff]), items: 1 };
    await entry.consume(broken);
    expect(f.capture.batches[0]).toBe(broken);
    const { registry } = f.sidecar!.metrics;
    const metric = await registry
      .getSingleMetric('hourglass_anomaly_scoring_failures_total')!
      .get();
    expect(metric.values[0]!.value).toBe(1);
  });
});
