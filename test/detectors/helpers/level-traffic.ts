import { expect } from 'vitest';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { LEVEL_MIN_SPAN_MS } from '../../../src/detectors/anomaly/internal/level.js';
import type { FakeClock } from '../../helpers/fake-clock.js';
import type { Random } from './random.js';
import { traceRequest, wholeNanos, type SpanSpec } from './traces.js';

const H = 3_600_000;
/** One span of the operation every EVERY_MS. */
export const EVERY_MS = 250;

/** `n` spans of one operation, one every EVERY_MS from `startMs`, `factor` times its usual. */
export function levelSpans(r: Random, startMs: number, n: number, factor = 1): SpanSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: 'GET /cart',
    startMs: startMs + i * EVERY_MS,
    durationMs: wholeNanos(factor * r.latency(100, 0.3)),
  }));
}

/**
 * Sends `list` as it happens: the clock follows the spans, a flush every 10 s. Returns the
 * severities of the spans tagged for their operation's slowdown.
 */
export async function playLive(
  d: AnomalyDetector,
  clock: FakeClock,
  list: SpanSpec[],
): Promise<number[]> {
  const tagged: number[] = [];
  for (let i = 0; i < list.length; i += 40) {
    const part = list.slice(i, i + 40);
    const end = part.at(-1)!.startMs + 1000;
    if (end > clock.now()) clock.set(end);
    const scored = d.score(traceRequest(part));
    for (const a of scored.anomalies) if (a.reason === 'slow_operation') tagged.push(a.severity);
    d.accept(scored);
    if (Math.floor(end / 10_000) !== Math.floor((end - 40 * EVERY_MS) / 10_000)) {
      await d.flushNow();
      await d.idle();
    }
  }
  return tagged;
}

/**
 * Gives the detector's one key baselines (an hour a week before the clock's) and level thresholds
 * of its own (LEVEL_MIN_SPAN_MS and 5 minutes of live traffic).
 */
export async function learnLevel(d: AnomalyDetector, clock: FakeClock, r: Random): Promise<void> {
  d.accept(d.score(traceRequest(levelSpans(r, clock.now() - 7 * 24 * H, 2000))));
  await d.flushNow();
  await d.idle();
  await playLive(d, clock, levelSpans(r, clock.now(), (LEVEL_MIN_SPAN_MS + 5 * 60_000) / EVERY_MS));
  expect(d.keys({})[0]!.level.thresholds).toBeDefined();
}
