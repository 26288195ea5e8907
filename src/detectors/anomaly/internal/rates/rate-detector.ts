import type { SpanRef } from '../../../../otlp/trace-index.js';
import type { BaselineModel } from '../baseline-model.js';
import type { KeyState } from '../key-state.js';
import { DOW_BASE } from '../slots.js';
import { bucketOfDayHour, type TimeBuckets } from '../time-buckets.js';
import { errorTypeOf, isErrorSpan, viewOf } from './error-detail.js';
import { expectationOf } from './expectation.js';
import {
  ALARM_ERRORS,
  ALARM_TRAFFIC,
  CELLS_PER_MINUTE,
  CELL_MS,
  MINUTE_MS,
  RateState,
  countType,
  type Expectation,
  decayTypes,
} from './rate-state.js';
import {
  binomialUpper,
  poissonTail,
  severityOfExponent,
  severityOfSize,
  upperCount,
} from './tail-bounds.js';

export interface RateSettings {
  /** The error detector is on (`errors.enabled`). */
  readonly errors: boolean;
  /** The traffic detector is on (`traffic.enabled`). */
  readonly traffic: boolean;
  /** Tag or record severities 1..minSeverity. */
  readonly minSeverity: number;
  /** `-ln` of each severity's false-alarm rate, `[sev5 .. sev1]` (from `severity_percentiles`). */
  readonly exponents: Float64Array;
}

/** One span tagged by the error or traffic detector. */
export interface RateVerdict {
  /** The span's index in the batch. */
  readonly index: number;
  readonly detector: 'errors' | 'traffic';
  readonly severity: number;
  /** errors: the error share of the window judged; traffic: spans in the last minute. */
  readonly rate: number;
  /** errors: the usual share at this hour; traffic: the usual spans a minute. */
  readonly baseline: number;
  /** The slot (slots.ts) that served the baseline, and what is behind it. */
  readonly slot: number;
  readonly samples: number;
  /** How far from the baseline, in standard deviations of the count. */
  readonly score: number;
  /** errors: the most frequent recent error type (not yet redacted). */
  readonly errorType: string | undefined;
}

/** An operation that went quiet: a traffic anomaly without a span. */
export interface TrafficDrop {
  readonly key: KeyState;
  /** The minute judged: [startMs, startMs + 60 s). */
  readonly startMs: number;
  readonly observed: number;
  readonly expected: number;
  readonly severity: number;
  readonly slot: number;
  readonly samples: number;
}

/** A minute is judged and learned this long after it ends (spans arrive after they end). */
export const LATE_MS = 15_000;
/** Minutes without any call of the processor beyond this are not learned (it was not running). */
const MAX_GAP_MINUTES = 10;
/** Observed minutes a slot needs to serve as a traffic baseline: an hour. */
const TRAFFIC_MIN_MINUTES = 60;
/** Spans a slot needs to serve as an error-share baseline. */
const ERRORS_MIN_SPANS = 200;
/** A surge has at least this many spans in a minute, and so many times the usual (SEV5 .. SEV1). */
const SURGE_MIN_SPANS = 30;
const SURGE_SIZE = Float64Array.of(2, 2.5, 3, 4, 8);
/**
 * A drop: an operation usually called at least this often a minute (fewer: its minutes vary too much), down to at most this share of
 * it (SEV5 .. SEV2). Not half: within an hour whose traffic ramps up (06:00-07:00 of a shop) the
 * first minutes run at half the hour's mean, every day.
 */
const DROP_MIN_RATE = 20;
const DROP_SIZE = Float64Array.of(0.35, 0.25, 0.15, 0.05);
/** A drop episode ends when the operation is back to this share of its usual rate. */
const DROP_RECOVERED = 0.5;
/** An error share this many times the usual (SEV5 .. SEV1), with at least this many errors. */
const ERROR_SIZE = Float64Array.of(2, 2.5, 3, 5, 10);
const ERROR_COUNT = Float64Array.of(1, 1, 2, 3, 5);
/** Errors come in clusters (a retry, a trace failing in several places): evidence counted at 1/1.25. */
const ERROR_DISPERSION = 1.25;
/** The error share is judged over the last 20 s and the last 60 s: the worse counts, at twice the rarity. */
const ERROR_WINDOWS = [2, 6] as const;
/**
 * And by a CUSUM over the operation's spans (each error adds ln(p1 / p0), each success
 * ln((1 - p1) / (1 - p0)), never below 0), for a share p1 this many times the usual p0: the
 * sequential test that finds a sustained burst, wherever it started, with fewer errors than a
 * fixed window needs. Whatever the past, the chance that it stands at h or more on usual traffic
 * is at most e^-h (Ville's inequality), so it is read against the severities' rates as it is. It
 * is capped one error above SEV1, so a burst's SEV3 tags end within two minutes of it.
 */
const ERROR_CUSUM_FACTOR = 10;
/**
 * Errors the usual share must rest on for the CUSUM (fewer: the share itself is uncertain by a
 * factor near the one it looks for, and the windows judge alone).
 */
const ERROR_CUSUM_MIN_ERRORS = 10;
const LN2 = Math.log(2);

/**
 * The error-burst and traffic detectors. They share the latency detector's keys, buckets and
 * flush: `observe` is called by the scoring loop for each span (no second pass), and minutes are
 * closed (judged for drops, then learned) as time passes (`tick`).
 */
export class RateDetector {
  /** Spans of the batch being scored that a rate detector tags. */
  verdicts: RateVerdict[] = [];
  /** The last minute closed for every key (NaN before the first call). */
  private closedThrough = Number.NaN;
  private readonly minute = new Float64Array(3);
  /** Spans not counted for their rates: late, or from the future (read by the metrics). */
  unplaced = 0;
  /** The bytes of the batch being scored, and a DataView of them (the 5xx read's, `isErrorSpan`). */
  private viewed: Uint8Array | undefined;
  private view: DataView | undefined;

  constructor(
    private readonly s: RateSettings,
    private readonly buckets: TimeBuckets,
    private readonly onDrop: (drop: TrafficDrop) => void,
  ) {}

  get enabled(): boolean {
    return this.s.errors || this.s.traffic;
  }

  /** Starts a batch scored at `now`: closes the minutes that ended. */
  begin(now: number, model: BaselineModel): void {
    this.verdicts = [];
    this.tick(now, model);
  }

  /** Closes every key's minutes that ended at least LATE_MS before `now`. */
  tick(now: number, model: BaselineModel): void {
    const through = Math.floor((now - LATE_MS) / MINUTE_MS) - 1;
    if (!Number.isNaN(this.closedThrough) && through <= this.closedThrough) return;
    this.closedThrough = through;
    for (const key of model.keys()) {
      const r = key.rates;
      if (r === undefined || !(r.closedThrough < through)) continue;
      // A gap longer than this was not observed (the process was paused, or a test or replay
      // jumped its clock): its minutes are not learned as empty ones.
      if (through - r.closedThrough <= MAX_GAP_MINUTES) {
        for (let m = r.closedThrough + 1; m <= through; m++) this.closeMinute(key, r, m);
      }
      r.closedThrough = through;
    }
  }

  /** Counts a span of `key` (dow_hour `bucket`) and judges it; a tag goes to `verdicts`. */
  observe(bytes: Uint8Array, span: SpanRef, index: number, key: KeyState, bucket: number): void {
    const s = this.s;
    // Spans are counted in the minute they end (they arrive soon after, whatever their length);
    // one that ends in a minute already closed (late by more than LATE_MS: a queue catching up)
    // or beyond the next few (a skewed clock) is not counted, nor judged for its rates.
    const t = span.startMs + span.durationMs;
    const c = Math.floor(t / CELL_MS);
    if (!(c >= (this.closedThrough + 1) * CELLS_PER_MINUTE)) {
      this.unplaced++;
      return;
    }
    if (c > (this.closedThrough + 4) * CELLS_PER_MINUTE - 1) {
      this.unplaced++;
      return;
    }
    const r = (key.rates ??= new RateState());
    // A new key is observed from the minute of its first span on: no empty minutes before it.
    if (Number.isNaN(r.closedThrough)) {
      r.closedThrough = Math.max(this.closedThrough, Math.floor(c / CELLS_PER_MINUTE) - 1);
    }
    const error = s.errors && isErrorSpan(bytes, span, this.viewFor(bytes));
    r.count(c, error);
    if (r.expBucket !== bucket) this.refresh(r, bucket);
    if (s.errors && r.cusumUp > 0) {
      const cap = this.s.exponents[4]! * ERROR_DISPERSION + r.cusumUp;
      r.cusum = Math.min(cap, Math.max(0, r.cusum + (error ? r.cusumUp : r.cusumDown)));
    }
    const frac = Math.min(1, Math.max(0, (t - c * CELL_MS) / CELL_MS));
    let verdict: RateVerdict | undefined;
    if (s.traffic && r.surge[0]! < Number.POSITIVE_INFINITY) {
      // (surge counts are only set against a baseline of the bucket's own time of day: refresh)
      const obs = r.window(c, frac, CELLS_PER_MINUTE, false);
      if (obs >= r.surge[0]!) {
        let sev = 5;
        while (sev > 1 && obs >= r.surge[6 - sev]!) sev--;
        const e = r.exp;
        // Kept out of the baseline only when judged against its own bucket: against a coarser
        // level a bucket that differs from it would never learn its own (latency does the same).
        if (sev <= 3 && e.slot === bucket) r.alarm(c, ALARM_TRAFFIC);
        verdict = {
          index,
          detector: 'traffic',
          severity: sev,
          rate: obs,
          baseline: e.mu,
          slot: e.slot,
          samples: e.minutes,
          score: (obs - e.mu) / Math.sqrt(Math.max(1e-9, e.mu * e.phi)),
          errorType: undefined,
        };
      }
    }
    if (error) {
      const type = errorTypeOf(bytes, span);
      if (type !== undefined) countType(r, type);
      const e = this.judgeErrors(r, c, frac, index, bucket);
      if (e !== undefined && (verdict === undefined || e.severity <= verdict.severity)) verdict = e;
    }
    if (verdict !== undefined && verdict.severity <= s.minSeverity) this.verdicts.push(verdict);
  }

  private viewFor(bytes: Uint8Array): DataView {
    if (bytes !== this.viewed) {
      this.viewed = bytes;
      this.view = viewOf(bytes);
    }
    return this.view!;
  }

  private judgeErrors(
    r: RateState,
    c: number,
    frac: number,
    index: number,
    bucket: number,
  ): RateVerdict | undefined {
    const e = r.exp;
    if (e.errSlot < 0) return undefined;
    const p0 = usualShare(e);
    let best = 0;
    let share = 0;
    let n = 0;
    for (const cells of ERROR_WINDOWS) {
      const spans = r.window(c, frac, cells, false);
      const errors = r.window(c, frac, cells, true);
      const q = errors / spans;
      // The windows' rarity, and (on the last minute's counts) the CUSUM's.
      const windowRarity = severityOfExponent(
        binomialUpper(errors, spans, p0) / ERROR_DISPERSION - LN2,
        this.s.exponents,
      );
      const rarity =
        cells === CELLS_PER_MINUTE && r.cusumUp > 0
          ? better(windowRarity, severityOfExponent(r.cusum / ERROR_DISPERSION, this.s.exponents))
          : windowRarity;
      const sev = lesser(
        lesser(rarity, severityOfSize(q / p0, ERROR_SIZE)),
        severityOfExponent(errors, ERROR_COUNT),
      );
      if (sev !== 0 && (best === 0 || sev < best)) {
        best = sev;
        share = q;
        n = spans;
      }
    }
    if (best === 0) return undefined;
    if (best <= 3 && e.errSlot === bucket) r.alarm(c, ALARM_ERRORS);
    return {
      index,
      detector: 'errors',
      severity: best,
      rate: share,
      baseline: p0,
      slot: e.errSlot,
      samples: e.errSpans,
      score: ((share - p0) * Math.sqrt(n)) / Math.sqrt(p0 * (1 - p0)),
      errorType: undefined,
    };
  }

  /** Closes minute `m` of `key`: judges it for a drop, then learns it. */
  private closeMinute(key: KeyState, r: RateState, m: number): void {
    const startMs = m * MINUTE_MS;
    const dayHour = this.buckets.dayHour(startMs);
    const bucket = bucketOfDayHour(dayHour);
    if (r.expBucket !== bucket) this.refresh(r, bucket);
    const minute = this.minute;
    r.minute(m, minute);
    const spans = minute[0]!;
    const alarms = minute[2]!;
    let trafficNormal = (alarms & ALARM_TRAFFIC) === 0;
    const e = r.exp;
    // Only against a baseline of the minute's own time of day (its bucket, or its hour over all
    // days): against its day's or the week's, the hour's own quiet is the season, not a drop.
    if (this.s.traffic && e.slot >= 0 && e.slot < DOW_BASE && e.mu >= DROP_MIN_RATE) {
      const left = spans / e.mu;
      if (left < DROP_SIZE[0]!) {
        const rarity = severityOfExponent(poissonTail(spans, e.mu) / e.phi, this.s.exponents);
        const size =
          left <= DROP_SIZE[3]! ? 2 : left <= DROP_SIZE[2]! ? 3 : left <= DROP_SIZE[1]! ? 4 : 5;
        const sev = lesser(rarity, size);
        if (sev !== 0 && sev <= 3 && e.slot === bucket) trafficNormal = false;
        // Recorded once per episode, and again when it gets worse (a flow slowing, then stopped).
        if (sev !== 0 && (r.dropping === 0 || sev < r.dropping)) {
          r.dropping = sev;
          if (sev <= this.s.minSeverity) {
            this.onDrop({
              key,
              startMs,
              observed: spans,
              expected: e.mu,
              severity: sev,
              slot: e.slot,
              samples: e.minutes,
            });
          }
        }
      } else if (left >= DROP_RECOVERED) {
        r.dropping = 0;
      }
    } else {
      r.dropping = 0;
    }
    r.learnMinute(dayHour, bucket, spans, minute[1]!, trafficNormal, (alarms & ALARM_ERRORS) === 0);
    decayTypes(r);
    r.expBucket = -1;
  }

  /** The expectation of `bucket`, the CUSUM's steps and the surge counts it implies. */
  private refresh(r: RateState, bucket: number): void {
    expectationOf(r.stats, bucket, TRAFFIC_MIN_MINUTES, ERRORS_MIN_SPANS, r.exp);
    r.expBucket = bucket;
    const e = r.exp;
    if (e.errSlot >= 0 && e.errRate * e.errSpans >= ERROR_CUSUM_MIN_ERRORS) {
      const p0 = usualShare(e);
      const p1 = Math.min(p0 * ERROR_CUSUM_FACTOR, (1 + p0) / 2);
      r.cusumUp = Math.log(p1 / p0);
      r.cusumDown = Math.log((1 - p1) / (1 - p0));
    } else {
      r.cusumUp = 0;
      r.cusum = 0;
    }
    if (e.slot < 0 || e.slot >= DOW_BASE || !this.s.traffic) {
      r.surge.fill(Number.POSITIVE_INFINITY);
      return;
    }
    const mu = Math.max(e.mu, 0.5);
    for (let k = 0; k < 5; k++) {
      r.surge[k] = upperCount(
        mu,
        e.phi,
        this.s.exponents[k]!,
        Math.max(SURGE_MIN_SPANS, mu * SURGE_SIZE[k]!),
      );
    }
  }
}

/** The usual error share, as if one more span of each kind had been seen: never exactly 0. */
function usualShare(e: Expectation): number {
  return (e.errRate * e.errSpans + 1) / (e.errSpans + 2);
}

/** The more severe of two severities (0: none). */
function better(a: number, b: number): number {
  return a === 0 ? b : b === 0 ? a : Math.min(a, b);
}

/** The less severe of two severities (0: none). */
function lesser(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : Math.max(a, b);
}
