import {
  EwmaCells,
  ladderSeverity,
  WelfordCells,
} from '../../../src/detectors/anomaly/replay/references.js';
import type { SimSpan } from '../sim/traffic.js';
import { SpanByOneDetector } from './detector.js';

/**
 * The simple detectors that peers ship (`src/detectors/anomaly/replay/references.ts`, shared with
 * `hourglass replay`), run on the same spans as hourglass. Each keys its statistics by operation
 * (service, span name and kind, as hourglass does) and maps its deviation in standard deviations
 * to a severity with the same ladder (3 sigma, their usual alarm, is SEV5).
 */

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
    return ladderSeverity(this.cells.scoreAndLearn(s.op, s.durationMs));
  }
}

/** Exponentially weighted mean + 3 / 4 sigma, after the Collector contrib `rollingspanlatency`. */
export class EwmaSigma extends SpanByOneDetector {
  readonly name = 'ewma-3sigma';
  readonly description =
    'rollingspanlatency-style EWMA mean and variance (half-life 2h, min stddev 1ms); 3/4/5/7/10 sigma';
  private readonly cells: EwmaCells;

  constructor(ops: number, halfLifeMs?: number) {
    super();
    this.cells = new EwmaCells(ops, halfLifeMs);
  }

  protected scoreSpan(s: SimSpan): number {
    return ladderSeverity(this.cells.scoreAndLearn(s.op, s.durationMs, s.startMs + s.durationMs));
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
    return ladderSeverity(
      this.cells.scoreAndLearn(s.op * 168 + dow * 24 + (hour % 24), s.durationMs),
    );
  }
}
