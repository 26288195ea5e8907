/**
 * The simple latency detectors peers ship, as references for hourglass on the same stream
 * (`hourglass replay --faults`, the detection benchmark). Each keeps its statistics per numbered
 * cell (an operation, or an operation and hour), scores a span before learning it, and learns
 * every span (none holds incidents back). A score is the span's deviation in standard deviations,
 * NaN while the cell warms up.
 */

/** Spans a cell learns before it scores. */
export const REFERENCE_WARMUP = 30;
const MIN_SD = 1e-3;

/** The sigma ladder the references map scores to severities with: 3, 4, 5, 7, 10 start SEV5 .. SEV1. */
export const SIGMA_LADDER = [3, 4, 5, 7, 10] as const;

/** The severity (1..5, 0 none) of a deviation on a ladder `[sev5 .. sev1]`. */
export function ladderSeverity(score: number, ladder: readonly number[] = SIGMA_LADDER): number {
  if (!(score >= ladder[0]!)) return 0;
  let sev = 5;
  for (let k = 1; k < ladder.length && score >= ladder[k]!; k++) sev--;
  return sev;
}

/** Mean + k sigma: mean and standard deviation over all of a cell's history (Welford). */
export class WelfordCells {
  private n: Float64Array;
  private mean: Float64Array;
  private m2: Float64Array;

  constructor(cells: number) {
    this.n = new Float64Array(cells);
    this.mean = new Float64Array(cells);
    this.m2 = new Float64Array(cells);
  }

  /** The score of `x` against cell `i` (NaN during the warm-up), then learns `x`. */
  scoreAndLearn(i: number, x: number): number {
    const n = this.n[i]!;
    const mean = this.mean[i]!;
    const sd = n > 1 ? Math.sqrt(this.m2[i]! / (n - 1)) : 0;
    const z = n < REFERENCE_WARMUP ? Number.NaN : (x - mean) / Math.max(MIN_SD, sd);
    const d = x - mean;
    this.n[i] = n + 1;
    this.mean[i] = mean + d / (n + 1);
    this.m2[i] = this.m2[i]! + d * (x - this.mean[i]!);
    return z;
  }
}

/**
 * The Collector contrib `rollingspanlatency` processor: per cell, an exponentially weighted mean
 * and variance with a time-based decay, alpha = 1 - exp(-ln2 * dt / half_life) between the spans'
 * end times (never below 1/count, so a burst acts as a running mean), 30 spans of warm-up, a 1 ms
 * floor on the standard deviation, each span scored before the update. Its labels are `slow` at 3
 * and `very_slow` at 4 standard deviations; the default half-life is 2 h.
 */
export class EwmaCells {
  private readonly n: Float64Array;
  private readonly mean: Float64Array;
  private readonly variance: Float64Array;
  private readonly last: Float64Array;

  constructor(
    cells: number,
    private readonly halfLifeMs = 2 * 3_600_000,
  ) {
    this.n = new Float64Array(cells);
    this.mean = new Float64Array(cells);
    this.variance = new Float64Array(cells);
    this.last = new Float64Array(cells);
  }

  /** The score of `x` (a span ending at `endMs`) against cell `i`, then learns it. */
  scoreAndLearn(i: number, x: number, endMs: number): number {
    const n = this.n[i]! + 1;
    this.n[i] = n;
    if (n === 1) {
      this.mean[i] = x;
      this.last[i] = endMs;
      return Number.NaN;
    }
    const mean = this.mean[i]!;
    const sd = Math.max(1, Math.sqrt(this.variance[i]!));
    const z = n - 1 < REFERENCE_WARMUP ? Number.NaN : (x - mean) / sd;
    const dt = Math.max(0, endMs - this.last[i]!);
    this.last[i] = Math.max(this.last[i]!, endMs);
    const alpha = Math.max(1 / n, 1 - Math.exp((-Math.LN2 * dt) / this.halfLifeMs));
    const diff = x - mean;
    this.mean[i] = mean + alpha * diff;
    this.variance[i] = (1 - alpha) * (this.variance[i]! + alpha * diff * diff);
    return z;
  }
}
