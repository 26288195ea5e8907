import type { SimSpan } from '../sim/traffic.js';
import { ladderSeverity, SpanByOneDetector } from './detector.js';

/**
 * The simple detectors that peers ship, run on the same spans as hourglass. Each keys its
 * statistics by operation (service, span name and kind, as hourglass does), scores a span before
 * learning it, learns every span (none of them holds incidents back), and maps its deviation in
 * standard deviations to a severity with the same ladder (3 sigma is SEV5, their usual alarm).
 */

const WARMUP = 30;
const MIN_SD = 1e-3;

/** Mean and standard deviation (Welford) in numbered cells. */
class WelfordCells {
  private readonly n: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(cells: number) {
    this.n = new Float64Array(cells);
    this.mean = new Float64Array(cells);
    this.m2 = new Float64Array(cells);
  }

  /** The severity of `x` against cell `i` (0 during the warm-up), then learns `x`. */
  scoreAndLearn(i: number, x: number): number {
    const n = this.n[i]!;
    const mean = this.mean[i]!;
    const sd = n > 1 ? Math.sqrt(this.m2[i]! / (n - 1)) : 0;
    const sev = n < WARMUP ? 0 : ladderSeverity((x - mean) / Math.max(MIN_SD, sd));
    const d = x - mean;
    this.n[i] = n + 1;
    this.mean[i] = mean + d / (n + 1);
    this.m2[i] = this.m2[i]! + d * (x - this.mean[i]!);
    return sev;
  }
}

/** Global mean + 3 sigma: Welford over all of an operation's history. */
export class GlobalSigma extends SpanByOneDetector {
  readonly name = 'global-3sigma';
  readonly description =
    'per-operation mean and standard deviation over all history; 3/4/5/7/10 sigma';
  private readonly cells: WelfordCells;

  constructor(ops: number) {
    super();
    this.cells = new WelfordCells(ops);
  }

  protected scoreSpan(s: SimSpan): number {
    return this.cells.scoreAndLearn(s.op, s.durationMs);
  }
}

/**
 * Exponentially weighted mean + 3 / 4 sigma, after the Collector contrib `rollingspanlatency`
 * processor: time-based decay with a 2 h half-life (never below 1/count), 30 spans of warm-up,
 * a 1 ms floor on the standard deviation, scored before the update.
 */
export class EwmaSigma extends SpanByOneDetector {
  readonly name = 'ewma-3sigma';
  readonly description =
    'rollingspanlatency-style EWMA mean and variance (half-life 2h, min stddev 1ms); 3/4/5/7/10 sigma';
  private readonly n: Float64Array;
  private readonly mean: Float64Array;
  private readonly variance: Float64Array;
  private readonly last: Float64Array;

  constructor(
    ops: number,
    private readonly halfLifeMs = 2 * 3_600_000,
  ) {
    super();
    this.n = new Float64Array(ops);
    this.mean = new Float64Array(ops);
    this.variance = new Float64Array(ops);
    this.last = new Float64Array(ops);
  }

  protected scoreSpan(s: SimSpan): number {
    const i = s.op;
    const x = s.durationMs;
    const end = s.startMs + x;
    const n = this.n[i]! + 1;
    this.n[i] = n;
    if (n === 1) {
      this.mean[i] = x;
      this.last[i] = end;
      return 0;
    }
    const mean = this.mean[i]!;
    const sd = Math.max(1, Math.sqrt(this.variance[i]!));
    const sev = n - 1 < WARMUP ? 0 : ladderSeverity((x - mean) / sd);
    const dt = Math.max(0, end - this.last[i]!);
    this.last[i] = Math.max(this.last[i]!, end);
    const alpha = Math.max(1 / n, 1 - Math.exp((-Math.LN2 * dt) / this.halfLifeMs));
    const diff = x - mean;
    this.mean[i] = mean + alpha * diff;
    this.variance[i] = (1 - alpha) * (this.variance[i]! + alpha * diff * diff);
    return sev;
  }
}

/**
 * A seasonal bucket model with fixed thresholds: mean and standard deviation per operation and
 * day-of-week x hour-of-day bucket (UTC, all history), 3/4/5/7/10 sigma; no fallback, no adaptive
 * thresholds, a bucket scores once it has 30 spans.
 */
export class SeasonalSigma extends SpanByOneDetector {
  readonly name = 'seasonal-3sigma';
  readonly description =
    'mean and stddev per operation and dow x hour bucket; fixed 3/4/5/7/10 sigma';
  private readonly cells: WelfordCells;

  constructor(ops: number) {
    super();
    this.cells = new WelfordCells(ops * 168);
  }

  protected scoreSpan(s: SimSpan): number {
    const hour = Math.floor(s.startMs / 3_600_000);
    const dow = (((Math.floor(hour / 24) + 3) % 7) + 7) % 7;
    return this.cells.scoreAndLearn(s.op * 168 + dow * 24 + (hour % 24), s.durationMs);
  }
}
