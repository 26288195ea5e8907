/**
 * The rate state of one key (service, operation, kind), beside its latency state: per dow_hour
 * bucket, what its minutes held over the window (the traffic and error baselines), the counts of
 * its last few minutes in 10-second cells (the windows judged), and the learning of the current
 * flush interval as daily rows. About 7 KB a key.
 */

export const CELL_MS = 10_000;
export const CELLS_PER_MINUTE = 6;
export const MINUTE_MS = 60_000;
/** Cells kept: the open minutes and the two minutes before them (a power of two). */
const RING = 32;
const RING_MASK = RING - 1;

/** Per bucket: minutes observed, spans in them, sum of squared per-minute counts ... */
export const R_MINUTES = 0;
export const R_SPANS = 1;
export const R_SUMSQ = 2;
/** ... and, for the error share, spans and error spans (minutes of an error burst left out). */
export const R_ERR_SPANS = 3;
export const R_ERRORS = 4;
export const R_STRIDE = 5;
export const RATE_BUCKETS = 168;

/** Alarm bits of a cell: a SEV3-or-worse error burst, traffic surge or drop was seen in it. */
export const ALARM_ERRORS = 1;
export const ALARM_TRAFFIC = 2;

/** Learning not yet written: one (local day, hour) row, R_STRIDE numbers. */
export interface RatePendingRow {
  readonly dayHour: number;
  readonly v: Float64Array;
}

/** Which fallback level served an expectation, as a slot number of slots.ts (-1: none). */
export interface Expectation {
  slot: number;
  /** Spans per minute, and the variance of the per-minute count over the mean (>= 1). */
  mu: number;
  phi: number;
  /** Minutes observed behind `mu`. */
  minutes: number;
  /** Error share, and the spans behind it. */
  errSlot: number;
  errRate: number;
  errSpans: number;
}

export class RateState {
  stats: Float64Array = new Float64Array(RATE_BUCKETS * R_STRIDE);
  pending: RatePendingRow[] = [];
  private readonly cell = new Float64Array(RING).fill(-1);
  private readonly spans = new Float64Array(RING);
  private readonly errors = new Float64Array(RING);
  private readonly alarms = new Uint8Array(RING);
  /** The last minute learned (NaN: none yet). */
  closedThrough = Number.NaN;
  /** The bucket the expectation and surge counts below are for (-1: stale). */
  expBucket = -1;
  readonly exp: Expectation = {
    slot: -1,
    mu: 0,
    phi: 1,
    minutes: 0,
    errSlot: -1,
    errRate: Number.NaN,
    errSpans: 0,
  };
  /** Spans in a 60 s window from which a surge is SEV5 .. SEV1 (Infinity: never). */
  readonly surge = new Float64Array(5).fill(Number.POSITIVE_INFINITY);
  /** The severity of the drop recorded, until the traffic is back to half its usual rate; 0: none. */
  dropping = 0;
  /**
   * The error share's CUSUM (rate-detector.ts): the log-likelihood ratio of the key's spans since
   * the share last looked usual, for a share `ERROR_CUSUM_FACTOR` times the usual against the
   * usual (0: usual), and what each span adds to it at the bucket's share (`refresh`).
   */
  cusum = 0;
  cusumUp = 0;
  cusumDown = 0;
  /** Error types of recent error spans, with decaying counts (at most MAX_TYPES). */
  types: Map<string, number> | undefined;

  /** Counts a span in cell `c`. */
  count(c: number, error: boolean): void {
    const at = c & RING_MASK;
    if (this.cell[at] !== c) {
      this.cell[at] = c;
      this.spans[at] = 0;
      this.errors[at] = 0;
      this.alarms[at] = 0;
    }
    this.spans[at]! += 1;
    if (error) this.errors[at]! += 1;
  }

  alarm(c: number, bit: number): void {
    const at = c & RING_MASK;
    if (this.cell[at] === c) this.alarms[at]! |= bit;
  }

  /**
   * Spans (or errors, `ofErrors`) in the window of `cells` cells ending at fraction `frac` of cell
   * `c`: the cells before it in full, the first one in part.
   */
  window(c: number, frac: number, cells: number, ofErrors: boolean): number {
    const v = ofErrors ? this.errors : this.spans;
    let sum = 0;
    for (let k = 0; k < cells; k++) {
      const at = (c - k) & RING_MASK;
      if (this.cell[at] === c - k) sum += v[at]!;
    }
    const first = (c - cells) & RING_MASK;
    if (this.cell[first] === c - cells) sum += v[first]! * (1 - frac);
    return sum;
  }

  /** What minute `m` held: spans, errors, alarm bits. */
  minute(m: number, out: Float64Array): void {
    out[0] = out[1] = out[2] = 0;
    let alarms = 0;
    for (let c = m * CELLS_PER_MINUTE; c < (m + 1) * CELLS_PER_MINUTE; c++) {
      const at = c & RING_MASK;
      if (this.cell[at] !== c) continue;
      out[0]! += this.spans[at]!;
      out[1]! += this.errors[at]!;
      alarms |= this.alarms[at]!;
    }
    out[2] = alarms;
  }

  /**
   * Learns one closed minute of dow_hour `bucket` (local `dayHour`): its count into the traffic
   * baseline unless `traffic` is false (a surge or drop), its spans and errors into the error
   * share unless `errors` is false (a burst).
   */
  learnMinute(
    dayHour: number,
    bucket: number,
    spans: number,
    errors: number,
    traffic: boolean,
    errorShare: boolean,
  ): void {
    if (!traffic && !(errorShare && spans > 0)) return;
    const row = this.pendingRow(dayHour);
    for (const v of [this.stats.subarray(bucket * R_STRIDE, bucket * R_STRIDE + R_STRIDE), row.v]) {
      if (traffic) {
        v[R_MINUTES]! += 1;
        v[R_SPANS]! += spans;
        v[R_SUMSQ]! += spans * spans;
      }
      if (errorShare) {
        v[R_ERR_SPANS]! += spans;
        v[R_ERRORS]! += errors;
      }
    }
  }

  private pendingRow(dayHour: number): RatePendingRow {
    const pending = this.pending;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i]!.dayHour === dayHour) return pending[i]!;
    }
    const row = { dayHour, v: new Float64Array(R_STRIDE) };
    pending.push(row);
    return row;
  }

  /** Adds learning of dow_hour `bucket` from elsewhere (another instance of a fleet). */
  mergeStats(bucket: number, v: ArrayLike<number>): void {
    const at = bucket * R_STRIDE;
    for (let k = 0; k < R_STRIDE; k++) this.stats[at + k]! += v[k]!;
    this.expBucket = -1;
  }

  /** Replaces the window's statistics (from SQLite) and adds the learning not yet flushed. */
  replaceStats(window: Float64Array, bucketOf: (dayHour: number) => number): void {
    for (const row of this.pending) {
      const at = bucketOf(row.dayHour) * R_STRIDE;
      for (let k = 0; k < R_STRIDE; k++) window[at + k]! += row.v[k]!;
    }
    this.stats = window;
    this.expBucket = -1;
  }
}

/** Error types kept per key; the least frequent gives way. */
const MAX_TYPES = 8;

/** Counts an error type of `r` (halved at every minute closed: `decayTypes`). */
export function countType(r: RateState, type: string): void {
  const types = (r.types ??= new Map());
  const n = types.get(type);
  if (n !== undefined) {
    types.set(type, n + 1);
    return;
  }
  if (types.size >= MAX_TYPES) {
    let least: string | undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const [t, c] of types) {
      if (c < min) {
        min = c;
        least = t;
      }
    }
    types.delete(least!);
  }
  types.set(type, 1);
}

export function decayTypes(r: RateState): void {
  if (!r.types) return;
  for (const [t, c] of r.types) {
    if (c < 0.05) r.types.delete(t);
    else r.types.set(t, c / 2);
  }
}

/** The most frequent recent error type of `r`. */
export function topType(r: RateState): string | undefined {
  let top: string | undefined;
  let max = 0;
  for (const [t, c] of r.types ?? []) {
    if (c > max) {
      max = c;
      top = t;
    }
  }
  return top;
}
