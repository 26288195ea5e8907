import { describe, expect, it } from 'vitest';
import { SLOT_COUNT } from '../../../src/detectors/anomaly/internal/slots.js';
import { THR_STRIDE } from '../../../src/detectors/anomaly/internal/thr-layout.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Random } from '../helpers/random.js';
import { detectorOf, startTestSidecar } from '../helpers/sidecar.js';
import { decodeSpans, traceRequest, wholeNanos, type SpanSpec } from '../helpers/traces.js';
import { useSidecarFixture } from '../../helpers/sidecar-fixture.js';

const H = 3_600_000;
const MONDAY = Date.UTC(2026, 0, 12);

/**
 * Beyond the highest percentile a key's history shows, its point thresholds are extrapolated no
 * heavier than a Pareto tail of index 1 in duration. A bimodal call (7 ms, and 1.5% of its calls
 * near 70 ms) put its tail shape's p90 inside the fast mode and its p99 in the slow one; the
 * exponential extrapolation in z across that gap put SEV5 at more than 60x the median, and the
 * 50x-120x spans of a network delay went untagged on real traffic (Nezha, 2022-08-22).
 */
describe('the extrapolated tail, bounded in duration', () => {
  const f = useSidecarFixture('hourglass-tail-bound-');

  it("tags a bimodal call's 50x span, and leaves its slow mode alone", async () => {
    const clock = new FakeClock(MONDAY + 12 * H);
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db'), recalculation: { enabled: false } },
      factories: [f.capture.factory],
    });
    const entry = f.sidecar.service.pipelineEntries.get('traces')!;
    const detector = detectorOf(f.sidecar);
    const r = new Random(41);
    // Last Monday, a call a minute all day: 7 ms, 1.5% of calls in a slow mode near 70 ms.
    const history: SpanSpec[] = Array.from({ length: 24 * 60 }, (_, i) => ({
      name: 'Email/Send',
      startMs: MONDAY - 7 * 24 * H + i * 60_000,
      durationMs: wholeNanos(r.next() < 0.015 ? r.latency(70, 0.3) : r.latency(7, 0.05)),
    }));
    await entry.consume({ signal: 'traces', bytes: traceRequest(history), items: history.length });
    await detector.recalculate();
    const key = detector.model.get('checkout', 'Email/Send', 2)!;
    const slow = history
      .map((s) => s.durationMs)
      .sort((a, b) => a - b)
      .at(-1)!;
    // Index 1 from the highest percentile shown (10 of 1,440 spans beyond it: p99.3), read in
    // each slot's own location and scale: SEV5 (p99.5 of the point share) within 2x and SEV3
    // (p99.95) within 20x of the slowest span of the history. Extrapolated exponentially in z,
    // SEV5 was 3.6x to 9.4x it (395 ms to 1 s on a 7 ms call).
    let learned = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const sev5 = key.thr[slot * THR_STRIDE]!;
      if (Number.isNaN(sev5)) continue;
      learned++;
      expect(sev5).toBeLessThan(2 * slow);
      expect(key.thr[slot * THR_STRIDE + 2]!).toBeLessThan(20 * slow);
    }
    expect(learned).toBeGreaterThan(24);
    const judge = async (durationMs: number) => {
      f.capture.batches.length = 0;
      const span = { name: 'Email/Send', startMs: clock.now() - 1000, durationMs };
      await entry.consume({ signal: 'traces', bytes: traceRequest([span]), items: 1 });
      return decodeSpans(f.capture.batches.at(-1)!.bytes)[0]!.attributes['anomaly.severity'];
    };
    expect(await judge(70)).toBeUndefined(); // its slow mode
    expect(await judge(350)).toBeDefined(); // 50x its median
  });
});
