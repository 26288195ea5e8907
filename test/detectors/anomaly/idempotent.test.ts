import { beforeEach, describe, expect, it } from 'vitest';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import { RecentSpans } from '../../../src/detectors/anomaly/internal/recent-spans.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { detectorOf, startTestSidecar } from '../helpers/sidecar.js';
import {
  cartAtNine,
  cartDayBefore,
  decodeSpans,
  MONDAY,
  traceRequest,
  type SpanSpec,
} from '../helpers/traces.js';
import { useSidecarFixture } from '../../helpers/sidecar-fixture.js';

const H = 3_600_000;
const FLUSH = 60_000;

/** 40 spans at Monday 09:00, and 2,000 the day before: history enough for a SEV1. */
const learned = [...cartAtNine(40), ...cartDayBefore()];

/** What an upstream hourglass (or an older version of this one) wrote on a span. */
const upstream = {
  'anomaly.severity': 'SEV4',
  'anomaly.severity_number': 4,
  'anomaly.score': 4.5,
  'anomaly.reason': 'slow_span',
  'anomaly.baseline.window': 'Mon 09:00-10:00 UTC',
};

function batch(spans: SpanSpec[]): OtlpBatch {
  return { signal: 'traces', bytes: traceRequest(spans), items: spans.length };
}

describe('idempotent tagging', () => {
  const f = useSidecarFixture('hourglass-idempotent-');
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock(MONDAY + 12 * H);
  });

  async function start() {
    f.sidecar = await startTestSidecar({
      clock,
      // Severe spans learned too: what is counted here is how often a span is learned.
      anomaly: {
        storage: f.path('hg.db'),
        flush_interval: '1m',
        exclude_severe_from_baseline: false,
      },
      factories: [f.capture.factory],
    });
    const entry = f.sidecar.service.pipelineEntries.get('traces')!;
    await entry.consume(batch(learned));
    return entry;
  }

  const count = () => detectorOf(f.sidecar!).keys({ service: 'checkout' })[0]!.count();

  it('replaces the anomaly attributes a span carries when it tags it, never duplicating them', async () => {
    const entry = await start();
    const slow: SpanSpec = {
      name: 'GET /cart',
      startMs: MONDAY + 9 * H + 31 * 60_000,
      durationMs: 1000,
      attributes: { 'http.route': '/cart', ...upstream, 'user.id': 'u1' },
    };
    await entry.consume(batch([slow]));
    const span = decodeSpans(f.capture.batches.at(-1)!.bytes)[0]!;
    const keys = span.attributeKeys;
    expect(new Set(keys).size).toBe(keys.length);
    // The span's own attributes first, in their order; the processor's after them.
    expect(keys.slice(0, 2)).toEqual(['http.route', 'user.id']);
    expect(keys.filter((k) => k.startsWith('anomaly.'))).toHaveLength(keys.length - 2);
    expect(span.attributes['anomaly.severity']).toBe('SEV1');
    expect(span.attributes['anomaly.severity_number']).toBe(1);
    expect(span.attributes['anomaly.score']).not.toBe(4.5);
    expect(span.attributes['anomaly.reason']).toBe('slow_span');
  });

  it('forwards a span that carries anomaly attributes as it came when it is not anomalous now', async () => {
    const entry = await start();
    const normal = batch([
      {
        name: 'GET /cart',
        startMs: MONDAY + 9 * H + 32 * 60_000,
        durationMs: 100,
        attributes: upstream,
      },
    ]);
    await entry.consume(normal);
    expect(f.capture.batches.at(-1)).toBe(normal);
    // Not tagged, but learned: it was never seen here.
    expect(count()).toBe(learned.length + 1);
  });

  it('learns a span that comes back tagged within the flush interval once, however often it loops', async () => {
    const entry = await start();
    const before = count();
    const first = batch([
      { name: 'GET /cart', startMs: MONDAY + 9 * H + 33 * 60_000, durationMs: 900 },
      { name: 'GET /cart', startMs: MONDAY + 9 * H + 34 * 60_000, durationMs: 100 },
    ]);
    await entry.consume(first);
    expect(count()).toBe(before + 2);
    // A loop: what this hourglass forwarded comes back into it, again and again.
    for (let pass = 0; pass < 20; pass++) {
      await entry.consume({ ...f.capture.batches.at(-1)! });
      clock.advance(FLUSH / 4);
    }
    const out = decodeSpans(f.capture.batches.at(-1)!.bytes);
    expect(out[0]!.attributeKeys.filter((k) => k === 'anomaly.severity')).toHaveLength(1);
    expect(out[0]!.attributes['anomaly.severity']).toBeDefined();
    // The tagged span was learned once; the untagged one carries nothing to recognise it by.
    expect(count()).toBe(before + 2 + 20);
    const history = detectorOf(f.sidecar!).history({ limit: 100 });
    expect(history.filter((a) => a.durationMs === 900)).toHaveLength(1);
  });

  it('forgets the spans it tagged after a flush interval has passed', async () => {
    const entry = await start();
    await entry.consume(
      batch([{ name: 'GET /cart', startMs: MONDAY + 9 * H + 35 * 60_000, durationMs: 900 }]),
    );
    const tagged = f.capture.batches.at(-1)!;
    const before = count();
    clock.advance(2 * FLUSH + 1);
    await entry.consume({ ...tagged });
    expect(count()).toBe(before + 1);
  });

  it('remembers a bounded number of ids per interval, and counts what it cannot hold', () => {
    const recent = new RecentSpans(3);
    for (const id of ['a', 'b', 'c', 'd', 'e']) recent.add(id);
    expect([recent.has('a'), recent.has('c'), recent.has('d')]).toEqual([true, true, false]);
    expect(recent.unchecked).toBe(2);
    recent.turn();
    expect(recent.has('a')).toBe(true);
    recent.turn();
    expect(recent.has('a')).toBe(false);
  });
});
