import { describeFault, type Fault } from '../sim/faults.js';
import type { Fleet } from '../sim/fleet.js';
import {
  atOrWorse,
  counts,
  CUTS,
  cutMetrics,
  ratio,
  shares,
  total,
  type Counts,
  type CutMetrics,
} from '../../../src/detectors/anomaly/replay/metrics.js';
import type { DetectorTally, FaultTally } from './tally.js';

export { CUTS, cutMetrics, type CutMetrics };

/** Nominal share of clean spans tagged SEV<=1 .. SEV<=5 (the default severity percentiles). */
export const NOMINAL = [0.00001, 0.0001, 0.001, 0.005, 0.01] as const;

export interface FaultMetrics {
  readonly id: number;
  readonly kind: Fault['kind'];
  readonly description: string;
  readonly factor: number;
  readonly from: string;
  readonly minutes: number;
  readonly targetSpans: number;
  readonly callerSpans: number;
  /** Share of the target's positive spans tagged SEV<=cut, cut 1..5 (index 0: cut 1). */
  readonly targetRecall: number[];
  readonly callerRecall: number[];
  /** Seconds from the fault's start to the first positive span tagged SEV<=cut; null: none. */
  readonly firstTagSeconds: (number | null)[];
  /** Seconds from the fault's start to its first positive span (no detector can be faster). */
  readonly firstSpanSeconds: number | null;
  /** Spans the fault touched by less than 1.5x, and the share of them tagged SEV<=3. */
  readonly ambiguousSpans: number;
  readonly ambiguousTagged3: number;
  /** Error spans of an error burst, and the share tagged SEV<=5 / SEV<=3. */
  readonly errorSpans: number;
  readonly errorTagged5: number;
  readonly errorTagged3: number;
  /** Clean spans of the related operations in the hour after, and the share tagged SEV<=3. */
  readonly afterSpans: number;
  readonly afterTagged3: number;
  /**
   * Seconds from the end of the fault to the last tag of the faulted operation in the run of tags
   * that followed it (tags less than TAG_RUN_GAP_S apart, the first within that of the end); 0
   * when tagging stopped with the fault.
   */
  readonly lastTagAfterSeconds: number;
}

export interface DetectorReport {
  readonly name: string;
  readonly description: string;
  readonly cuts: CutMetrics[];
  readonly calibration: {
    readonly spans: number;
    /** Share of clean spans tagged SEV<=cut, cut 1..5. */
    readonly shares: number[];
    readonly byWeek: { readonly week: number; readonly spans: number; readonly shares: number[] }[];
    readonly byOperation: {
      readonly operation: string;
      readonly spans: number;
      readonly shares: number[];
    }[];
  };
  readonly faults: FaultMetrics[];
  readonly seasonality: {
    readonly mondayClean: { readonly spans: number; readonly tagged3: number };
    readonly mondayProbes: { readonly spans: number; readonly tagged3: number };
    readonly sundayProbes: { readonly spans: number; readonly tagged3: number };
  };
}

export function detectorReport(
  name: string,
  description: string,
  t: DetectorTally,
  fleet: Fleet,
  evalHours: number,
  warmupWeeks: number,
): DetectorReport {
  const clean = counts();
  t.cleanByWeek.forEach((c, w) => {
    if (w >= warmupWeeks) for (let s = 0; s <= 5; s++) clean[s]! += c[s]!;
  });
  const probe = (c: Counts) => ({ spans: total(c), tagged3: ratio(atOrWorse(c, 3), total(c)) });
  return {
    name,
    description,
    cuts: CUTS.map((cut) => cutMetrics(t.positive, t.negative, cut, evalHours)),
    calibration: {
      spans: total(clean),
      shares: shares(clean),
      byWeek: t.cleanByWeek.map((c, w) => ({ week: w + 1, spans: total(c), shares: shares(c) })),
      byOperation: t.cleanByOp.map((c, op) => ({
        operation: `${fleet.ops[op]!.service}/${fleet.ops[op]!.name}`,
        spans: total(c),
        shares: shares(c),
      })),
    },
    faults: t.faults.map((f) => faultMetrics(f, fleet)),
    seasonality: {
      mondayClean: probe(t.mondayClean),
      mondayProbes: probe(t.mondayProbes),
      sundayProbes: probe(t.sundayProbes),
    },
  };
}

function faultMetrics(f: FaultTally, fleet: Fleet): FaultMetrics {
  const { fault } = f;
  const seconds = (t: number) => (Number.isFinite(t) ? (t - fault.from) / 1000 : null);
  return {
    id: fault.id,
    kind: fault.kind,
    description: describeFault(fleet, fault),
    factor: fault.factor,
    from: new Date(fault.from).toISOString(),
    minutes: Math.round((fault.to - fault.from) / 60_000),
    targetSpans: total(f.target),
    callerSpans: total(f.callers),
    targetRecall: shares(f.target),
    callerRecall: shares(f.callers),
    firstTagSeconds: CUTS.map((cut) => seconds(f.firstTag[cut]!)),
    firstSpanSeconds: seconds(f.firstPositive),
    ambiguousSpans: total(f.ambiguous),
    ambiguousTagged3: ratio(atOrWorse(f.ambiguous, 3), total(f.ambiguous)),
    errorSpans: total(f.errors),
    errorTagged5: ratio(atOrWorse(f.errors, 5), total(f.errors)),
    errorTagged3: ratio(atOrWorse(f.errors, 3), total(f.errors)),
    afterSpans: total(f.after),
    afterTagged3: ratio(atOrWorse(f.after, 3), total(f.after)),
    lastTagAfterSeconds: lastTagAfter(f.afterTags, fault.to),
  };
}

/** Tags of one operation less than this apart are one run of tags (issue 10's "tags went on"). */
export const TAG_RUN_GAP_S = 120;

function lastTagAfter(tags: readonly number[], end: number): number {
  let last = end;
  for (const t of [...tags].sort((a, b) => a - b)) {
    if (t - last >= TAG_RUN_GAP_S * 1000) break;
    last = t;
  }
  return (last - end) / 1000;
}

/** Target spans and recall at `cut` over the step faults of one factor. */
export function stepRecall(r: DetectorReport, factor: number, cut: number) {
  const steps = r.faults.filter((f) => f.kind === 'step' && f.factor === factor);
  const spans = steps.reduce((n, f) => n + f.targetSpans, 0);
  const hits = steps.reduce((n, f) => n + f.targetSpans * f.targetRecall[cut - 1]!, 0);
  // Faults with no positive span (a sub-millisecond call 2x slower) have nothing to detect.
  const counted = steps.filter((f) => f.targetSpans > 0);
  const delays = counted.map((f) => f.firstTagSeconds[cut - 1] ?? null);
  const firstSpans = counted.map((f) => f.firstSpanSeconds);
  return { faults: counted.length, spans, recall: ratio(hits, spans), delays, firstSpans };
}
