import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../../src/component/consumer.js';
import {
  LEVEL_MIN_SAMPLES,
  LEVEL_MIN_SPAN_MS,
} from '../../../src/detectors/anomaly/internal/level.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Random } from '../helpers/random.js';
import { detectorOf, startTestSidecar } from '../helpers/sidecar.js';
import { decodeSpans, traceRequest, wholeNanos, type SpanSpec } from '../helpers/traces.js';
import { useSidecarFixture } from '../../helpers/sidecar-fixture.js';

const H = 3_600_000;
const MONDAY = Date.UTC(2026, 0, 12);

/**
 * Keys without a learned level (it needs LEVEL_MIN_SAMPLES spans counted live: a call made once
 * or twice a minute has none for many hours after a restart) borrow the level thresholds their
 * service's learned keys show, so that a rarely called key's sustained slowdown can be tagged.
 */
describe('level thresholds borrowed from the service', () => {
  const f = useSidecarFixture('hourglass-level-pool-');

  const send = (entry: Consumer, spans: SpanSpec[]) =>
    entry.consume({ signal: 'traces', bytes: traceRequest(spans), items: spans.length });

  /** `n` spans of `name`, every `everyMs` from `startMs`, log-normal around `median`. */
  function calls(
    r: Random,
    name: string,
    startMs: number,
    n: number,
    everyMs: number,
    median: number,
  ) {
    return Array.from({ length: n }, (_, i) => ({
      name,
      startMs: startMs + i * everyMs,
      durationMs: wholeNanos(r.latency(median, 1.2)),
    }));
  }

  it("tags a rarely called key's 15x slowdown at SEV3 or worse before it has counted a level of its own, not a 5x one", async () => {
    const clock = new FakeClock(MONDAY + 9 * H + 60_000);
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db') },
      factories: [f.capture.factory],
    });
    const entry = f.sidecar.service.pipelineEntries.get('traces')!;
    const detector = detectorOf(f.sidecar);
    const r = new Random(31);
    const lastWeek = MONDAY - 6 * 24 * H + 9 * H; // last Tuesday 09:00: the hour's history
    // History: a busy call and one made once a minute, both very noisy (spans vary 10x).
    await send(entry, calls(r, 'GET /cart', lastWeek, 3000, 1000, 100));
    await send(entry, calls(r, 'POST /email', lastWeek, 300, 10_000, 100));
    clock.advance(10_000);
    await detector.idle();
    const busy = detector.model.get('checkout', 'GET /cart', 2)!;
    const rare = detector.model.get('checkout', 'POST /email', 2)!;
    // Live traffic: the busy call counts enough spans, over LEVEL_MIN_SPAN_MS, to learn its level
    // at the next flush.
    const live = clock.now() - 50_000;
    clock.advance(LEVEL_MIN_SPAN_MS);
    await send(entry, calls(r, 'GET /cart', live, 1200, (LEVEL_MIN_SPAN_MS + 40_000) / 1200, 100));
    clock.advance(10_000);
    await detector.idle();
    expect(busy.level.thresholds).toBeDefined();
    expect(rare.level.thresholds).toBeUndefined();
    expect(rare.level.samples).toBeLessThan(LEVEL_MIN_SAMPLES);
    expect(rare.level.borrowed).toEqual(busy.level.thresholds);
    /** One call of the rare key every 20 s for six minutes, `median`: its spans as forwarded. */
    const sixMinutes = async (median: number) => {
      f.capture.batches.length = 0;
      const start = clock.now();
      for (let i = 1; i <= 18; i++) {
        clock.set(start + i * 20_000);
        await send(entry, calls(r, 'POST /email', clock.now() - 1000, 1, 1, median));
      }
      await detector.idle();
      const spans = f.capture.batches.flatMap((b) => decodeSpans(b.bytes));
      expect(spans).toHaveLength(18);
      return spans.filter((s) => s.attributes['anomaly.reason'] === 'slow_operation');
    };
    // As usual: the borrowed thresholds tag nothing.
    expect(await sixMinutes(100)).toHaveLength(0);
    // 15x slower: no single span is rare enough for SEV3 (its spans vary 10x), the run of them is.
    const tagged = await sixMinutes(1500);
    const severe = tagged.filter((s) =>
      ['SEV1', 'SEV2', 'SEV3'].includes(s.attributes['anomaly.severity'] as string),
    );
    expect(severe.length).toBeGreaterThanOrEqual(4);
    // 5x slower: borrowed thresholds do not know where this key's own level sits, and vouch for
    // an order of magnitude only (BORROWED_MIN_RATIO).
    await sixMinutes(100);
    expect(await sixMinutes(500)).toHaveLength(0);
    expect(rare.level.thresholds).toBeUndefined();
  });
});
