import { rewriteItems } from '../../../otlp/rewrite.js';
import {
  indexFromLayout,
  indexSpans,
  type SpanLayout,
  type SpanRef,
  type TraceIndex,
} from '../../../otlp/trace-index.js';
import { spanRecord, type AnomalyRecord } from './anomaly-record.js';
import type { BaselineModel, Operations } from './baseline-model.js';
import type { KeyForm } from './key-form.js';
import type { KeyState } from './key-state.js';
import { BORROWED_MIN_RATIO, cappedSeverity, carriesShift } from './level-shift.js';
import { SlowRun, tailRate } from './slow-run.js';
import { THR_P50, THR_P95, THR_P99, THR_SEV5, THR_STRIDE } from './thr-layout.js';
import { countAt, meanAt, stddevAt } from './moments.js';
import { severityOf } from './severity.js';
import { DOW_BASE, GLOBAL_SLOT, scopeOfSlot } from './slots.js';
import type { AttributeEncoder } from './tagger.js';
import { effectiveStddev, TENFOLD } from './thresholds.js';
import { bucketOfDayHour, type TimeBuckets } from './time-buckets.js';
import type { TaggedSpan } from '../incidents/trace-groups.js';
import { BatchTags } from './rates/batch-tags.js';
import type { RateDetector } from './rates/rate-detector.js';

export interface ScoringContext {
  readonly model: BaselineModel;
  /** The operation of each span's key (key-form.ts). */
  readonly keyForm: KeyForm;
  readonly buckets: TimeBuckets;
  readonly minSamples: number;
  readonly minDeltaMs: number;
  /** Tag severities 1..minSeverity. */
  readonly minSeverity: number;
  /** Cold-start thresholds `[sev5 .. sev1]` in standard deviations. */
  readonly fixed: Float64Array;
  /**
   * Spans of history a key needs for a single span to be SEV1 .. SEV5 (`supportOf`): index
   * severity - 1.
   */
  readonly support: Float64Array;
  /** Rates of the point thresholds `[sev5 .. sev1]` (1 - point percentile): `tailRate`. */
  readonly pointRates: Float64Array;
  /** What a short run of slow spans must reach for each severity (`runLimits`). */
  readonly runLimits: Float64Array;
  /** `anomaly.baseline.window` of each slot. */
  readonly windows: readonly string[];
  /** Encodes the attributes of a tagged span (built with the same window labels). */
  readonly encoder: AttributeEncoder;
  readonly detector: string;
  /** The latency detector is on (`latency.enabled`). */
  readonly latency: boolean;
  /** The error and traffic detectors (rates/), which see every span in the same pass. */
  readonly rates: RateDetector | undefined;
  /** The incident engine: each tagged span's incident, written as `anomaly.incident_id`. */
  readonly incidents?: IncidentTagging | undefined;
}

/** The hook the incident engine offers the tagging path (incidents/engine.ts). */
export interface IncidentTagging {
  assign(index: TraceIndex, tagged: readonly TaggedSpan[], now: number): (string | undefined)[];
}

/** A batch after scoring, kept until the batch is accepted downstream and then learned from. */
export interface ScoredBatch {
  readonly index: TraceIndex;
  /** Per span: its key, or undefined when the span is not scored nor learned. */
  readonly keys: (KeyState | undefined)[];
  /** Per span: its local `day * 24 + hour`. */
  readonly dayHours: Float64Array;
  /** Per span: its dow_hour bucket (0..167), which learning adds it to. */
  readonly buckets: Uint8Array;
  /**
   * Per span: 1 when it is severe against its own dow_hour bucket, else 0: its key was in a
   * sustained slowdown of SEV3 or worse, or, while the bucket has only the fixed cold-start
   * thresholds (its mean and standard deviation, which one extreme span distorts), the span is
   * SEV1 or SEV2. Only these can keep a span out of the baseline: a span scored against a fallback
   * level (its bucket does not have min_samples yet) must be learned, or a bucket that differs
   * from the coarser levels (the weekly batch job at Saturday 03:00) would never get its own.
   */
  readonly severe: Uint8Array;
  /** The spans tagged (severity at least `minSeverity`). */
  readonly anomalies: AnomalyRecord[];
  /** Per span, 1 when it arrived carrying `anomaly.*` attributes; undefined when none did. */
  readonly carried: Uint8Array | undefined;
  /** The request with the tagged spans' attributes added; the input itself when none was. */
  readonly bytes: Uint8Array;
  /** Spans neither scored nor learned because they end more than FUTURE_END_MS after `now`. */
  readonly futureSpans: number;
}

/**
 * A span that ends more than a day after the sidecar's clock has not ended: its timestamps are wrong
 * (a client clock days ahead, or an end of 2^64-1 ns, which OTLP/JSON accepts). It is forwarded as
 * it came, but neither scored nor learned: one such duration (years) in a young slot's mean and
 * variance would blind its cold-start thresholds until the window rolls. Counted, logged once.
 */
export const FUTURE_END_MS = 86_400_000;

/**
 * How far beyond its history a single span's rarity may be claimed: a key that has seen N spans
 * can call one rarer than 1 in N x SUPPORT_EXTRAPOLATION at most, two decades beyond what it has
 * seen (as far as the tail shape extrapolates with some confidence). With the default
 * percentiles (point rates of 1 in 20,000 for SEV2, 1 in 200,000 for SEV1) SEV2 needs 200 spans
 * of history and SEV1 2,000: a young key's extreme span is SEV3 until its history says more.
 */
export const SUPPORT_EXTRAPOLATION = 100;

/**
 * The same bound for a key without a shape (cold start, the fixed thresholds): it claims no rarer
 * than its spans show (1 in N, as a new span beyond all N of them is), since a sample standard
 * deviation of a few heavy-tailed spans understates their tail. On real traffic the fixed SEV3
 * threshold called 0.87% of such keys' normal spans SEV3 (TrainTicket, keys of fewer than 500
 * spans), 17 times its share of the rate. An order of magnitude over the slot's median keeps the
 * bound of learned thresholds: such a span is at least moderate (TENFOLD, thresholds.ts).
 */
export const COLD_EXTRAPOLATION = 1;

/**
 * The spans of history each severity (index severity - 1) needs, from the point percentiles: a
 * whole number (2,000 spans support 1 in 200,000, although 1 - 0.999995 is not exact in floating
 * point).
 */
export function supportOf(pointPercentiles: readonly number[]): Float64Array {
  // pointPercentiles: [sev5 .. sev1] as fractions.
  return Float64Array.from([4, 3, 2, 1, 0], (k) =>
    Math.ceil((1 - 1e-9) / (SUPPORT_EXTRAPOLATION * (1 - pointPercentiles[k]!))),
  );
}

// p99 of a normal distribution, used for `anomaly.baseline.p99_ms` until a recalculation has
// read the slot's real p99 from its sketch.
const Z99 = 2.326;
const STATUS_ERROR = 2;

/**
 * Scores every span of a validated trace request against its key's baseline and tags the
 * anomalous ones. Allocates per batch, not per span (apart from what `indexSpans` makes), and
 * writes nothing: learning happens after the batch is accepted downstream.
 */
export function scoreBatch(
  bytes: Uint8Array,
  ctx: ScoringContext,
  now: number,
  layout?: SpanLayout,
): ScoredBatch {
  // The receiver's record of where the fields are, when it is for these bytes; else a scan.
  const index =
    layout !== undefined && layout.bytes === bytes ? indexFromLayout(layout) : indexSpans(bytes);
  const spans = index.spans;
  const n = spans.length;
  const keys: (KeyState | undefined)[] = new Array<KeyState | undefined>(n);
  const dayHours = new Float64Array(n);
  const spanBuckets = new Uint8Array(n);
  const severe = new Uint8Array(n);
  const anomalies: AnomalyRecord[] = [];
  // Per span, 1 when it arrived carrying `anomaly.*` attributes (carried-attributes.ts); noted as
  // the loop below passes each span, not in a pass of its own. Undefined while none does.
  let carried: Uint8Array | undefined;
  const { model, buckets, minSamples, minDeltaMs, minSeverity, fixed, support, rates } = ctx;
  const tags = new BatchTags(bytes, spans, keys, ctx.encoder, ctx.windows, now);
  rates?.begin(now, model);
  const opsByResource: (Operations | undefined)[] = [];
  // Spans of a request mostly share their hour: its bucket is computed once per change.
  let lastDayHour = Number.NaN;
  let bucket = 0;
  const latestEnd = now + FUTURE_END_MS;
  let futureSpans = 0;
  for (let i = 0; i < n; i++) {
    const span = spans[i]!;
    if (span.anomalyAttributes) (carried ??= new Uint8Array(n))[i] = 1;
    const d = span.durationMs;
    if (!(d > 0) || !(span.startMs > 0)) continue;
    if (span.startMs + d > latestEnd) {
      futureSpans++;
      continue;
    }
    const service = index.resources[span.resource]!.serviceName;
    const ops = (opsByResource[span.resource] ??= model.operations(service));
    const key = model.key(service, ctx.keyForm.operation(bytes, span), span.kind, ops);
    if (!key) continue;
    const dayHour = buckets.dayHour(span.startMs);
    if (dayHour !== lastDayHour) {
      lastDayHour = dayHour;
      bucket = bucketOfDayHour(dayHour);
    }
    keys[i] = key;
    dayHours[i] = dayHour;
    spanBuckets[i] = bucket;
    rates?.observe(bytes, span, i, key, bucket);
    if (!ctx.latency) continue;
    const slot = key.servingSlot(bucket, minSamples);
    if (slot < 0) continue;
    const m = key.m;
    const thr = key.thr;
    const at = slot * THR_STRIDE;
    const mean = meanAt(m, slot);
    // The key's level: every successful span moves it (a fast failure says nothing of latency).
    // It judges the operation only against a baseline of the same time of day (dow_hour, hour):
    // against another time's, a sustained difference is the season, not an incident.
    let shift = 0;
    let shiftRatio = Number.NaN;
    if (!Number.isNaN(thr[at + THR_P50]!) && span.statusCode !== STATUS_ERROR) {
      const v = key.level.observe(thr, at, d, span.startMs + d);
      const own = key.level.thresholds;
      const lt = own ?? key.level.borrowed;
      if (lt !== undefined && v >= lt[0]! && slot < DOW_BASE) {
        const ratio = key.level.ratio();
        // Borrowed thresholds (level.ts, LevelPool) vouch for an order of magnitude only.
        if (own !== undefined || ratio >= BORROWED_MIN_RATIO) {
          shift = severityOf(v, lt);
          // Rare enough to be an incident: kept out of the baseline, whatever its size.
          if (slot === bucket && shift <= 3) severe[i] = 1;
          shift = carriesShift(thr, at, d, mean, ratio, minDeltaMs)
            ? cappedSeverity(shift, ratio)
            : 0;
          shiftRatio = ratio;
        }
      }
      // A short run of slow spans (slow-run.ts), against learned thresholds of its time of day.
      if (d > thr[at + THR_P95]! && slot < DOW_BASE && !Number.isNaN(thr[at + THR_SEV5]!)) {
        const run = (key.run ??= new SlowRun());
        const floor = 1 / (SUPPORT_EXTRAPOLATION * countAt(m, GLOBAL_SLOT));
        const rate = tailRate(thr, at, d, ctx.pointRates, floor);
        run.add(rate, d / thr[at + THR_P50]!, span.startMs);
        if (run.length > 1) {
          const r = run.judge(ctx.runLimits, cappedSeverity);
          if (r.severity !== 0) {
            if (slot === bucket) severe[i] = 1;
            if (
              (shift === 0 || r.severity < shift) &&
              carriesShift(thr, at, d, mean, r.ratio, minDeltaMs)
            ) {
              shift = r.severity;
              shiftRatio = r.ratio;
            }
          }
        }
      } else if (key.run !== undefined) key.run.reset();
    }
    let sev = 0;
    let stddev = Number.NaN;
    // Spans of history needed per span of `support` (COLD_EXTRAPOLATION).
    let reach = 1;
    if (d - mean >= minDeltaMs) {
      if (!Number.isNaN(thr[at + THR_SEV5]!)) {
        sev = severityOf(d, thr, at + THR_SEV5);
      } else {
        // Cold start: fixed thresholds in standard deviations of the live baseline, and no
        // shape to extrapolate with (COLD_EXTRAPOLATION).
        stddev = stddevAt(m, slot);
        sev = severityOf((d - mean) / effectiveStddev(mean, stddev), fixed);
        const p50 = thr[at + THR_P50]!;
        if (!(d >= TENFOLD * (Number.isNaN(p50) ? mean : p50))) {
          reach = SUPPORT_EXTRAPOLATION / COLD_EXTRAPOLATION;
        }
      }
    }
    // No rarer than the key's history can tell (`supportOf`).
    const seen = countAt(m, GLOBAL_SLOT);
    while (sev !== 0 && sev < 5 && seen < reach * support[sev - 1]!) sev++;
    // The worse of the two readings; `anomaly.reason` says which one it was.
    const byLevel = shift !== 0 && (sev === 0 || shift < sev);
    if (byLevel) sev = shift;
    if (sev === 0 || sev > minSeverity) continue;
    if (Number.isNaN(stddev)) stddev = stddevAt(m, slot);
    const record = anomalyRecord(
      bytes,
      span,
      key,
      slot,
      sev,
      byLevel,
      shiftRatio,
      stddev,
      now,
      ctx,
    );
    tags.latencyTag(i, record, slot);
  }
  // The incident of a span depends on the others of its trace: assigned once all are known.
  const incidents = ctx.incidents;
  const edits = tags.finish(
    carried,
    rates?.verdicts ?? [],
    anomalies,
    incidents && ((tagged) => incidents.assign(index, tagged, now)),
  );
  return {
    index,
    keys,
    dayHours,
    buckets: spanBuckets,
    severe,
    anomalies,
    carried,
    bytes: edits ? rewriteItems(bytes, edits) : bytes,
    futureSpans,
  };
}

function anomalyRecord(
  bytes: Uint8Array,
  span: SpanRef,
  key: KeyState,
  slot: number,
  severity: number,
  byLevel: boolean,
  operationRatio: number,
  stddev: number,
  now: number,
  ctx: ScoringContext,
): AnomalyRecord {
  const m = key.m;
  const at = slot * THR_STRIDE;
  const mean = meanAt(m, slot);
  const d = span.durationMs;
  const p99 = key.thr[at + THR_P99]!;
  return spanRecord(bytes, span, key, {
    severity,
    detector: ctx.detector,
    reason: byLevel ? 'slow_operation' : 'slow_span',
    operationRatio: byLevel ? operationRatio : Number.NaN,
    score: (d - mean) / effectiveStddev(mean, stddev),
    ratio: mean > 0 ? d / mean : Number.POSITIVE_INFINITY,
    meanMs: mean,
    stddevMs: stddev,
    p99Ms: Number.isNaN(p99) ? mean + Z99 * stddev : p99,
    samples: countAt(m, slot),
    scope: scopeOfSlot(slot),
    window: ctx.windows[slot]!,
    recordedAt: now,
    summary: null,
  });
}
