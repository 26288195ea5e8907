import type { Fault, Schedule } from '../sim/faults.js';
import type { Fleet } from '../sim/fleet.js';
import { HOUR } from '../sim/seasonality.js';
import { MONDAY_PROBE, SUNDAY_PROBE, type SimSpan } from '../sim/traffic.js';
import { counts, type Counts } from '../../../src/detectors/anomaly/replay/metrics.js';

export {
  atOrWorse,
  counts,
  total,
  type Counts,
} from '../../../src/detectors/anomaly/replay/metrics.js';

/**
 * Ground truth per span, as an SRE would count it:
 * - positive: a fault made it at least 1.5x slower and at least 5 ms slower (on the faulted
 *   operation, or a caller whose own duration grew that much); DESIGN.md: "a 1 ms span taking
 *   3 ms" is not an anomaly;
 * - ambiguous: a fault made it slower, but by less than that (a caller that spends little of its
 *   time in the slow call, the first hours of a drift, a sub-millisecond call 2x slower): neither
 *   a hit nor a false alarm;
 * - negative: anything else, including spans that failed fast in an error burst;
 * - probes of the seasonality check count only there.
 */
export const POSITIVE_FACTOR = 1.5;
export const POSITIVE_ADDED_MS = 5;
const EPSILON = 1e-9;

export type Truth = 'positive' | 'ambiguous' | 'negative' | 'probe';

export function truthOf(s: SimSpan): Truth {
  if (s.probe !== 0) return 'probe';
  if (s.error) return 'negative';
  const added = s.durationMs - s.durationMs / s.factor;
  if (s.factor >= POSITIVE_FACTOR - EPSILON && added >= POSITIVE_ADDED_MS - EPSILON) {
    return 'positive';
  }
  if (s.factor > 1 + EPSILON) return 'ambiguous';
  return 'negative';
}

export interface FaultTally {
  readonly fault: Fault;
  /** Operations it touches: the target and its callers (an outage: the entry and its calls). */
  readonly related: ReadonlySet<number>;
  /** Positive spans on the target operation, and on its callers. */
  readonly target: Counts;
  readonly callers: Counts;
  readonly ambiguous: Counts;
  /** Spans that failed in an error burst. */
  readonly errors: Counts;
  /** Negative spans of the related operations in the hour after the fault ended. */
  readonly after: Counts;
  /** Starts of the faulted operation's spans tagged (any severity) in the hour after it ended. */
  readonly afterTags: number[];
  /** Per cut 1..5: start of the earliest positive span tagged at that cut or worse. */
  readonly firstTag: Float64Array;
  /** Start of the earliest positive span. */
  firstPositive: number;
}

export interface DetectorTally {
  readonly positive: Counts;
  readonly negative: Counts;
  /**
   * Clean spans per simulated week, warm-up included: no fault changed them, none of their
   * operation's faults (as target, caller or outage) was active in the hour before, no error.
   */
  readonly cleanByWeek: Counts[];
  /** Clean spans of the evaluation weeks per operation. */
  readonly cleanByOp: Counts[];
  readonly faults: FaultTally[];
  /** The seasonal operation's clean spans on the probed Monday 09:00 hours. */
  readonly mondayClean: Counts;
  readonly mondayProbes: Counts;
  readonly sundayProbes: Counts;
}

/** Tallies one detector's verdicts against the ground truth (evaluation period only, but weeks). */
export class Tally {
  readonly data: DetectorTally;

  constructor(
    private readonly fleet: Fleet,
    private readonly schedule: Schedule,
    private readonly start: number,
    private readonly evalStart: number,
    weeks: number,
  ) {
    this.data = {
      positive: counts(),
      negative: counts(),
      cleanByWeek: Array.from({ length: weeks }, counts),
      cleanByOp: fleet.ops.map(counts),
      faults: schedule.faults.map((fault) => ({
        fault,
        related: relatedOps(fleet, fault),
        target: counts(),
        callers: counts(),
        ambiguous: counts(),
        errors: counts(),
        after: counts(),
        afterTags: [],
        firstTag: new Float64Array(6).fill(Number.POSITIVE_INFINITY),
        firstPositive: Number.POSITIVE_INFINITY,
      })),
      mondayClean: counts(),
      mondayProbes: counts(),
      sundayProbes: counts(),
    };
  }

  add(s: SimSpan, severity: number): void {
    const d = this.data;
    const truth = truthOf(s);
    if (truth === 'probe') {
      (s.probe === MONDAY_PROBE
        ? d.mondayProbes
        : s.probe === SUNDAY_PROBE
          ? d.sundayProbes
          : counts())[severity]!++;
      return;
    }
    const clean = s.fault < 0 && !s.error && !this.afterFault(s);
    if (clean) d.cleanByWeek[Math.floor((s.startMs - this.start) / (7 * 24 * HOUR))]![severity]!++;
    if (s.startMs < this.evalStart) return;
    if (clean) d.cleanByOp[s.op]![severity]!++;
    if (truth === 'positive') d.positive[severity]!++;
    else if (truth === 'negative') d.negative[severity]!++;
    if (clean && s.op === this.fleet.seasonalOp && this.inMondayProbe(s.startMs)) {
      d.mondayClean[severity]!++;
    }
    if (s.fault >= 0) this.addToFault(d.faults[s.fault]!, s, truth, severity);
    if (truth === 'negative') {
      for (const f of d.faults) {
        const { to } = f.fault;
        if (s.startMs < to || s.startMs >= to + HOUR || !f.related.has(s.op)) continue;
        f.after[severity]!++;
        if (severity > 0 && s.op === f.fault.op) f.afterTags.push(s.startMs);
      }
    }
  }

  private addToFault(f: FaultTally, s: SimSpan, truth: Truth, severity: number): void {
    if (s.error) {
      f.errors[severity]!++;
      return;
    }
    if (truth === 'ambiguous') {
      f.ambiguous[severity]!++;
      return;
    }
    if (truth !== 'positive') return;
    (s.op === f.fault.op ? f.target : f.callers)[severity]!++;
    if (s.startMs < f.firstPositive) f.firstPositive = s.startMs;
    if (severity === 0) return;
    for (let cut = severity; cut <= 5; cut++) {
      if (s.startMs < f.firstTag[cut]!) f.firstTag[cut] = s.startMs;
    }
  }

  /** True within a fault on one of the span's related operations or in the hour after it. */
  private afterFault(s: SimSpan): boolean {
    for (const f of this.data.faults) {
      if (s.startMs >= f.fault.from && s.startMs < f.fault.to + HOUR && f.related.has(s.op)) {
        return true;
      }
    }
    return false;
  }

  private inMondayProbe(t: number): boolean {
    return this.schedule.mondayProbes.some((h) => t >= h && t < h + HOUR);
  }
}

function relatedOps(fleet: Fleet, f: Fault): Set<number> {
  if (f.kind !== 'outage') return new Set([f.op, ...fleet.callers[f.op]!]);
  const out = new Set<number>();
  const visit = (op: number) => {
    if (out.has(op)) return;
    out.add(op);
    for (const c of fleet.ops[op]!.calls) visit(c.op);
  };
  visit(f.op);
  return out;
}
