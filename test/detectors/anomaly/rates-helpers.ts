import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import type { FakeClock } from '../../helpers/fake-clock.js';
import { decodeSpans, traceRequest, type DecodedSpan, type SpanSpec } from '../helpers/traces.js';

export const MONDAY = Date.UTC(2026, 0, 12);
export const H = 3_600_000;
export const MIN = 60_000;

/** What a span of the traffic below is: its operation, and whether (and how) it fails. */
export type SpanMaker = (minute: number, i: number) => Omit<SpanSpec, 'startMs'> | undefined;

/**
 * Plays `minutes` minutes from `from`, `perMinute` spans a minute evenly spread, in one request
 * per 10 seconds, the clock set just after each request's last span ended (as an SDK exports),
 * and returns every span forwarded with the minute it is in.
 */
export function play(
  d: AnomalyDetector,
  clock: FakeClock,
  from: number,
  minutes: number,
  perMinute: number,
  make: SpanMaker,
): { minute: number; span: DecodedSpan }[] {
  const out: { minute: number; span: DecodedSpan }[] = [];
  const step = MIN / perMinute;
  for (let m = 0; m < minutes; m++) {
    for (let cell = 0; cell < 6; cell++) {
      const specs: SpanSpec[] = [];
      for (let i = 0; i < perMinute; i++) {
        const start = from + m * MIN + i * step;
        if (start < from + m * MIN + cell * 10_000 || start >= from + m * MIN + (cell + 1) * 10_000)
          continue;
        const spec = make(m, i);
        if (spec) specs.push({ ...spec, startMs: start });
      }
      if (specs.length === 0) continue;
      const lastEnd = Math.max(...specs.map((s) => s.startMs + s.durationMs));
      if (lastEnd + 1000 > clock.now()) clock.set(lastEnd + 1000);
      const scored = d.score(traceRequest(specs));
      d.accept(scored);
      for (const span of decodeSpans(scored.bytes)) out.push({ minute: m, span });
    }
  }
  return out;
}

/** The spans a detector tagged. */
export const taggedBy = <T extends { span: DecodedSpan }>(spans: T[], detector: string): T[] =>
  spans.filter((s) => s.span.attributes['anomaly.detector'] === detector);
