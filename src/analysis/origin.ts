import { anomalyOf, type SpanAnomaly } from './anomaly-attributes.js';
import type { SpanInfo } from '../otlp/span-decode.js';

/** A span of an analysed trace, with what the analysis worked out about it. */
export interface AnalysedSpan {
  readonly span: SpanInfo;
  /** Set on spans the anomaly processor tagged. */
  readonly anomaly: SpanAnomaly | undefined;
  /** Duration minus the union of its (held) children's intervals, ms. */
  readonly exclusiveMs: number;
  /** What its own time would have been had it and its children matched their baselines, ms. */
  readonly expectedExclusiveMs: number;
  /** exclusive - expected: the slowdown that happened in this span itself, ms. */
  readonly excessMs: number;
  /** excessMs in the standard deviations of its baseline (0 without a baseline). */
  readonly sigma: number;
}

export interface TraceAnalysis {
  readonly traceId: string;
  /** Every held span, deduplicated, in start order. */
  readonly spans: readonly AnalysedSpan[];
  /** The tagged spans, most severe first. */
  readonly anomalies: readonly AnalysedSpan[];
  /** The likely origin of the slowdown. */
  readonly origin: AnalysedSpan;
  /** From the highest held ancestor down to the origin (inclusive). */
  readonly chain: readonly AnalysedSpan[];
  /** Tagged spans that are neither on the chain nor the origin. */
  readonly siblings: readonly AnalysedSpan[];
  /** The tagged span the summary hangs under: the origin when tagged, else the most severe. */
  readonly anchor: AnalysedSpan;
}

/**
 * Works out where a slow trace got slow. Each span's exclusive (own) time is its duration minus
 * the union of its children's intervals (clipped to it). What that own time should have been is
 * its baseline mean minus its children's baseline means, scaled by how much the children overlap
 * (parallel calls cover less than their sum). Spans without a baseline (not tagged) are taken as
 * normal: their duration is their expectation. A span's excess is its own time minus that
 * expectation: a caller whose callee slowed down has a large total excess but no excess of its
 * own, so the origin is the span with the largest own excess, the callee. When no span has a
 * positive excess (the slow part was not traced) the most severe tagged span is the origin.
 *
 * Returns undefined when the trace holds no tagged span.
 */
export function analyseTrace(spans: readonly SpanInfo[]): TraceAnalysis | undefined {
  const byId = new Map<string, SpanInfo>();
  for (const s of spans) if (s.spanId !== '' && !byId.has(s.spanId)) byId.set(s.spanId, s);
  const unique = [...byId.values()].sort((a, b) => a.startMs - b.startMs);
  const children = new Map<string, SpanInfo[]>();
  for (const s of unique) {
    if (s.parentSpanId === '' || !byId.has(s.parentSpanId)) continue;
    const list = children.get(s.parentSpanId) ?? [];
    list.push(s);
    children.set(s.parentSpanId, list);
  }
  const anomalies = new Map(unique.map((s) => [s, anomalyOf(s)] as const));
  const expectedMs = (s: SpanInfo) => {
    const mean = anomalies.get(s)?.meanMs;
    return mean !== undefined && Number.isFinite(mean) ? mean : s.durationMs;
  };
  const analysed = new Map<SpanInfo, AnalysedSpan>();
  for (const s of unique) {
    const kids = children.get(s.spanId) ?? [];
    const cover = unionWithin(kids, s.startMs, s.endMs);
    const exclusiveMs = Math.max(0, s.durationMs - cover);
    let sumKids = 0;
    let sumKidsExpected = 0;
    for (const k of kids) {
      sumKids += k.durationMs;
      sumKidsExpected += expectedMs(k);
    }
    const overlap = sumKids > 0 ? cover / sumKids : 0;
    const expectedExclusiveMs = Math.max(0, expectedMs(s) - sumKidsExpected * overlap);
    const excessMs = exclusiveMs - expectedExclusiveMs;
    const anomaly = anomalies.get(s);
    const spread = anomaly ? Math.max(anomaly.stddevMs, anomaly.meanMs * 0.01, 1e-3) : Number.NaN;
    analysed.set(s, {
      span: s,
      anomaly,
      exclusiveMs,
      expectedExclusiveMs,
      excessMs,
      sigma: Number.isFinite(spread) ? excessMs / spread : 0,
    });
  }
  const all = unique.map((s) => analysed.get(s)!);
  // A verdict of the errors or traffic detector has no duration ratio or mean: as slow as usual.
  const ratio = (a: AnalysedSpan) => (Number.isFinite(a.anomaly!.ratio) ? a.anomaly!.ratio : 1);
  const tagged = all
    .filter((a) => a.anomaly !== undefined)
    .sort((a, b) => a.anomaly!.severity - b.anomaly!.severity || ratio(b) - ratio(a));
  if (tagged.length === 0) return undefined;
  // Own excesses below a tenth of the largest slowdown are noise (a few ms of scheduling).
  const totalExcess = (a: AnalysedSpan) =>
    Number.isFinite(a.anomaly!.meanMs) ? a.span.durationMs - a.anomaly!.meanMs : 0;
  const floor = Math.max(1, 0.1 * Math.max(...tagged.map(totalExcess)));
  let origin: AnalysedSpan | undefined;
  for (const a of all) {
    if (a.excessMs >= floor && (!origin || a.excessMs > origin.excessMs)) origin = a;
  }
  origin ??= deepestTagged(tagged, byId, totalExcess);
  const chain: AnalysedSpan[] = [];
  const seen = new Set<string>();
  for (let s: SpanInfo | undefined = origin.span; s && !seen.has(s.spanId);) {
    seen.add(s.spanId);
    chain.unshift(analysed.get(s)!);
    s = byId.get(s.parentSpanId);
  }
  return {
    traceId: origin.span.traceId,
    spans: all,
    anomalies: tagged,
    origin,
    chain,
    siblings: tagged.filter((a) => !seen.has(a.span.spanId)),
    anchor: origin.anomaly ? origin : tagged[0]!,
  };
}

/**
 * The tagged span closest to where the time went when no span's own time explains it (the slow
 * callee was not traced, or not held): among tagged spans without a tagged descendant, the one
 * that is slowest against its baseline.
 */
function deepestTagged(
  tagged: readonly AnalysedSpan[],
  byId: ReadonlyMap<string, SpanInfo>,
  totalExcess: (a: AnalysedSpan) => number,
): AnalysedSpan {
  const above = new Set<string>();
  for (const a of tagged) {
    const seen = new Set<string>();
    for (let p = byId.get(a.span.parentSpanId); p && !seen.has(p.spanId);) {
      seen.add(p.spanId);
      above.add(p.spanId);
      p = byId.get(p.parentSpanId);
    }
  }
  const leaves = tagged.filter((a) => !above.has(a.span.spanId));
  const pool = leaves.length > 0 ? leaves : tagged; // parent ids in a cycle: no leaf
  return pool.reduce((best, a) => (totalExcess(a) > totalExcess(best) ? a : best), pool[0]!);
}

/** Length of the union of the children's intervals, clipped to [start, end]. */
export function unionWithin(spans: readonly SpanInfo[], start: number, end: number): number {
  const intervals = spans
    .map((s) => [Math.max(start, s.startMs), Math.min(end, s.endMs)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = Number.NaN;
  let curEnd = Number.NaN;
  for (const [a, b] of intervals) {
    if (!(a <= curEnd)) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) {
      curEnd = b;
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}
