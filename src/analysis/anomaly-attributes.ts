import { ANOMALY_ATTRIBUTES as A, type AnomalyRecord } from '../detectors/anomaly/contract.js';
import type { SpanInfo } from '../otlp/span-decode.js';

/**
 * What the anomaly processor wrote on a tagged span (DESIGN.md, "Attributes"): the verdict part
 * of its record, read back from the attributes (so the scope is whatever string the span carries).
 */
export type SpanAnomaly = Pick<
  AnomalyRecord,
  | 'severity'
  | 'detector'
  | 'operationRatio'
  | 'score'
  | 'ratio'
  | 'meanMs'
  | 'stddevMs'
  | 'p99Ms'
  | 'samples'
  | 'window'
> & {
  readonly scope: string;
  /**
   * `slow_span`, `slow_operation`, `error_burst`, `traffic_surge`, or '' from a processor that did
   * not write it.
   */
  readonly reason: string;
  /** The numbers of an `errors` or `traffic` verdict, which carries no duration ratio or mean. */
  readonly rate?: RateVerdict | undefined;
};

/**
 * What the errors or traffic detector measured (`anomaly.errors.*`, `anomaly.traffic.*`): the
 * operation's error share in the window judged, or its spans in the last minute, against its usual
 * one at that hour; `errorType`, the most frequent recent error ('' when none was written).
 */
export interface RateVerdict {
  readonly detector: 'errors' | 'traffic';
  readonly rate: number;
  readonly baselineRate: number;
  readonly errorType: string;
}

/** The anomaly attributes of a decoded span, or undefined when it was not tagged. */
export function anomalyOf(span: SpanInfo): SpanAnomaly | undefined {
  const a = span.attributes;
  const severity = a.get(A.severityNumber);
  if (typeof severity !== 'number' || severity < 1 || severity > 5) return undefined;
  const num = (key: string) => {
    const v = a.get(key);
    return typeof v === 'number' ? v : Number.NaN;
  };
  const str = (key: string) => {
    const v = a.get(key);
    return typeof v === 'string' ? v : '';
  };
  const detector = str(A.detector);
  const rate: RateVerdict | undefined =
    detector === 'errors'
      ? {
          detector,
          rate: num(A.errorsRate),
          baselineRate: num(A.errorsBaselineRate),
          errorType: str(A.errorsType),
        }
      : detector === 'traffic'
        ? {
            detector,
            rate: num(A.trafficRate),
            baselineRate: num(A.trafficBaselineRate),
            errorType: '',
          }
        : undefined;
  return {
    severity,
    detector,
    reason: str(A.reason),
    operationRatio: num(A.operationRatio),
    score: num(A.score),
    ratio: num(A.ratio),
    meanMs: num(A.meanMs),
    stddevMs: num(A.stddevMs),
    p99Ms: num(A.p99Ms),
    samples: num(A.samples),
    scope: str(A.scope),
    window: str(A.window),
    rate,
  };
}

// The key the anomaly processor writes on every tagged span; searched for as bytes, so a batch
// without any tagged span costs one memchr-speed scan.
const KEY = Buffer.from(A.severityNumber);

/** True when the request may hold a tagged span (the key's bytes appear in it). */
export function mayHoldAnomalies(bytes: Uint8Array): boolean {
  return asBuffer(bytes).indexOf(KEY) >= 0;
}

/**
 * Indexes of the spans (byte ranges `starts[i]..ends[i]`, in order) whose bytes contain the key;
 * they are then decoded to check it is an attribute key, not some text that happens to hold it.
 */
export function spansWithAnomalyKey(
  bytes: Uint8Array,
  starts: readonly number[],
  ends: readonly number[],
): number[] {
  const buf = asBuffer(bytes);
  const out: number[] = [];
  let from = 0;
  let i = 0;
  for (;;) {
    const at = buf.indexOf(KEY, from);
    if (at < 0) break;
    while (i < starts.length && ends[i]! <= at) i++;
    if (i >= starts.length) break;
    if (starts[i]! <= at) {
      out.push(i);
      from = ends[i]!;
      i++;
    } else {
      from = at + 1;
    }
  }
  return out;
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
