import { hexAt, type SpanRef } from '../../../otlp/trace-index.js';
import type { Reason } from '../attributes.js';
import type { Scope } from './slots.js';

/** One tagged span, as kept in the anomaly history and served by the admin API. */
export interface AnomalyRecord {
  /** `<trace id>-<span id>` in hex: stable, so a span re-sent by a client is recorded once. */
  readonly id: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly service: string;
  readonly operation: string;
  /** SpanKind enum value. */
  readonly kind: number;
  readonly startMs: number;
  readonly durationMs: number;
  /** 1 (SEV1, critical) .. 5 (SEV5, low). */
  readonly severity: number;
  readonly detector: string;
  /** `slow_span` (the span alone is rare) or `slow_operation` (its level, or a short run: slow-run.ts). */
  readonly reason: Reason;
  /**
   * With `slow_operation`: the operation's current slowdown (its level's ratio to normal, or the
   * least ratio of a short run's spans); else NaN.
   */
  readonly operationRatio: number;
  readonly score: number;
  readonly ratio: number;
  readonly meanMs: number;
  readonly stddevMs: number;
  readonly p99Ms: number;
  readonly samples: number;
  readonly scope: Scope;
  readonly window: string;
  /** When hourglass tagged it (the clock's time). */
  readonly recordedAt: number;
  /** Written later by a summarizer (llm_summary), null until then. */
  readonly summary: string | null;
  /**
   * Its place in the order its processor published anomalies (anomaly-feed.ts): set when published,
   * increasing, kept in the history, so that an event stream resumes after it. 0 before (and in
   * rows of releases that did not keep it).
   */
  seq: number;
  /** `errors`: the error share judged, the usual one, the most frequent error type (redacted). */
  readonly errorRate?: number | undefined;
  readonly baselineErrorRate?: number | undefined;
  readonly errorType?: string | undefined;
  /** `traffic`: spans a minute observed and usually at this hour; for a drop, the minute's end. */
  readonly observedRate?: number | undefined;
  readonly expectedRate?: number | undefined;
  readonly windowEndMs?: number | undefined;
}

/** Filters of `GET /api/v1/anomalies`. */
export interface AnomalyQuery {
  readonly service?: string | undefined;
  readonly operation?: string | undefined;
  /** Keep severities at least this severe (1..5). */
  readonly minSeverity?: number | undefined;
  /** Span start time, ms since the epoch. */
  readonly sinceMs?: number | undefined;
  readonly limit: number;
}

export function matches(r: AnomalyRecord, q: Omit<AnomalyQuery, 'limit'>): boolean {
  return (
    (q.service === undefined || r.service === q.service) &&
    (q.operation === undefined || r.operation === q.operation) &&
    (q.minSeverity === undefined || r.severity <= q.minSeverity) &&
    (q.sinceMs === undefined || r.startMs >= q.sinceMs)
  );
}

export const SPAN_KIND_NAMES = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
] as const;

export function spanKindName(kind: number): string {
  return SPAN_KIND_NAMES[kind] ?? String(kind);
}

/** `server` or `SPAN_KIND_SERVER` or `2` to 2; undefined otherwise. */
export function parseSpanKind(text: string): number | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/^span_kind_/, '');
  const i = (SPAN_KIND_NAMES as readonly string[]).indexOf(t);
  if (i >= 0) return i;
  return /^[0-5]$/.test(t) ? Number(t) : undefined;
}

/** The fields of a record that say which span it is of (`spanRecord` fills them). */
type SpanFields =
  'id' | 'traceId' | 'spanId' | 'service' | 'operation' | 'kind' | 'startMs' | 'durationMs';

/** What a detector says of a span it tagged: every field of its record but the span's. */
export type RecordNumbers = Omit<
  AnomalyRecord,
  | SpanFields
  | 'errorRate'
  | 'baselineErrorRate'
  | 'errorType'
  | 'observedRate'
  | 'expectedRate'
  | 'seq'
>;

/**
 * The record of a tagged span, whatever detector tagged it: which span it is of (its ids, key and
 * timing), then the detector's numbers `v`. Built as one literal: a literal that spreads an object
 * and adds properties (`{ ...spanFields, severity, ... }`) took 10 to 50 us in Node 20's V8
 * (docs/performance.md), once per tagged span.
 */
export function spanRecord(
  bytes: Uint8Array,
  span: SpanRef,
  key: { readonly service: string; readonly operation: string },
  v: RecordNumbers,
): AnomalyRecord {
  const traceId = hexAt(bytes, span.traceIdAt, 16);
  const spanId = hexAt(bytes, span.spanIdAt, 8);
  return {
    id: `${traceId}-${spanId}`,
    traceId,
    spanId,
    service: key.service,
    operation: key.operation,
    kind: span.kind,
    startMs: span.startMs,
    durationMs: span.durationMs,
    severity: v.severity,
    detector: v.detector,
    reason: v.reason,
    operationRatio: v.operationRatio,
    score: v.score,
    ratio: v.ratio,
    meanMs: v.meanMs,
    stddevMs: v.stddevMs,
    p99Ms: v.p99Ms,
    samples: v.samples,
    scope: v.scope,
    window: v.window,
    recordedAt: v.recordedAt,
    summary: v.summary,
    seq: 0,
  };
}
