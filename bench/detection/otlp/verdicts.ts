import { indexSpans } from '../../../src/otlp/trace-index.js';
import { spanSeverity } from '../../../src/detectors/anomaly/replay/verdicts.js';

/**
 * Reads what a user gets from the processor: the `anomaly.severity_number` attribute of each span
 * of an encoded trace request, by span id (the simulator's ids are numbers). Spans without it are
 * not reported. The attribute reader is `hourglass replay`'s.
 */
export function readSeverities(
  bytes: Uint8Array,
  found: (spanId: number, severity: number) => void,
): void {
  for (const span of indexSpans(bytes).spans) {
    const severity = spanSeverity(bytes, span.start, span.end);
    if (severity > 0) found(readId(bytes, span.spanIdAt), severity);
  }
}

export function readId(b: Uint8Array, at: number): number {
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 4; k++) hi = hi * 256 + b[at + k]!;
  for (let k = 4; k < 8; k++) lo = lo * 256 + b[at + k]!;
  return hi * 4294967296 + lo;
}
