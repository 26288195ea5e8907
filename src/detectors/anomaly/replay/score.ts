import { scoreIncidents, type IncidentScoring } from './incident-score.js';
import type { Fault } from './faults.js';
import {
  counts,
  CUTS,
  cutMetrics,
  prf,
  ratio,
  shares,
  total,
  type Counts,
  type CutMetrics,
} from './metrics.js';
import { labelSpans, NEGATIVE, POSITIVE, type Labels } from './protocol.js';
import { referenceScores } from './reference-scores.js';
import type { ReplayRun } from './replay.js';
import { tenfoldFigure, type TenfoldFigure } from './tenfold.js';

/** The k of the per-operation mean + k sigma rules compared with hourglass. */
export const SIGMA_KS = [3, 4, 5, 6, 8] as const;
/** `rollingspanlatency`'s two labels: slow at 3, very_slow at 4 standard deviations. */
export const EWMA_KS = [3, 4] as const;

export interface RuleMetrics {
  readonly name: string;
  readonly tp: number;
  readonly fp: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Share of negative spans it flags. */
  readonly negativeRate: number;
}

export interface FaultScore {
  readonly at: string;
  readonly pod: string;
  readonly type: string;
  readonly positives: number;
  /** Share of its positives tagged SEV<=cut, cuts 1..5. */
  readonly recall: number[];
  /** Seconds from the injection to the end of its first positive span; null: none in the files. */
  readonly firstPositiveS: number | null;
  /** Seconds from the injection to the end of its first positive tagged SEV<=cut, cuts 1..5. */
  readonly firstTagS: (number | null)[];
  /** Seconds to the first positive the 3-sigma rule flags. */
  readonly firstSigma3S: number | null;
}

export interface Scoring {
  readonly spans: {
    readonly positive: number;
    readonly negative: number;
    readonly leftOut: Labels['leftOut'];
  };
  /** Hours of traffic judged (minutes that hold spans). */
  readonly hours: number;
  readonly hourglass: {
    readonly cuts: CutMetrics[];
    /** Share of negative spans tagged SEV<=cut, cuts 1..5. */
    readonly negativeShares: number[];
  };
  readonly sigma: RuleMetrics[];
  readonly ewma: RuleMetrics[];
  /** The mean + k sigma rule at hourglass's SEV<=3 false-alarm rate (k chosen to match it). */
  readonly atHourglassRate: {
    readonly negativeRate: number;
    readonly k: number;
    readonly ruleRecall: number;
    readonly hourglassRecall: number;
  };
  readonly faults: FaultScore[];
  readonly tenfold: TenfoldFigure;
  /** The incidents against the latency faults (incident-score.ts). */
  readonly incidents: IncidentScoring;
}

/**
 * Issue 11's "every latency fault gets a SEV<=2 tag within `seconds` of its injection": the faults
 * whose first positive span ends within that time (the files hold it: `covered`), and of them
 * those with a SEV<=2 tag on a positive span by then (`onTime`).
 */
export function faultsTaggedWithin(
  s: Scoring,
  seconds: number,
): { covered: FaultScore[]; onTime: FaultScore[]; tagged: number } {
  const covered = s.faults.filter((f) => f.firstPositiveS !== null && f.firstPositiveS <= seconds);
  const onTime = covered.filter((f) => (f.firstTagS[1] ?? Infinity) <= seconds);
  return { covered, onTime, tagged: onTime.length };
}

/** Scores a replay against a fault list with the datasets' protocol (protocol.ts). */
export function scoreReplay(run: ReplayRun, faults: readonly Fault[]): Scoring {
  const t = run.stream.table;
  const labels = labelSpans(t, faults);
  const refs = referenceScores(run.stream, run.history?.table);
  const positive = counts();
  const negative = counts();
  const minutes = new Set<number>();
  for (let i = 0; i < t.count; i++) {
    minutes.add(Math.floor(t.startMs(i) / 60_000));
    if (labels.label[i] === POSITIVE) positive[run.severity[i]!]!++;
    else if (labels.label[i] === NEGATIVE) negative[run.severity[i]!]!++;
  }
  const hours = minutes.size / 60;
  const rule = (name: string, z: Float64Array, k: number) => ruleMetrics(name, z, k, labels);
  const cuts = CUTS.map((cut) => cutMetrics(positive, negative, cut, hours));
  return {
    spans: { positive: total(positive), negative: total(negative), leftOut: labels.leftOut },
    hours,
    incidents: scoreIncidents(run, faults, labels, hours),
    hourglass: { cuts, negativeShares: shares(negative) },
    sigma: SIGMA_KS.map((k) => rule(`mean + ${k} sigma`, refs.sigma, k)),
    ewma: EWMA_KS.map((k) => rule(`rollingspanlatency EWMA ${k} sigma`, refs.ewma, k)),
    atHourglassRate: atRate(
      refs.sigma,
      labels,
      ratio(cuts[2]!.fp, total(negative)),
      cuts[2]!.recall,
    ),
    faults: faults.flatMap((f, j) =>
      f.latency ? [faultScore(run, labels, refs.sigma, f, j)] : [],
    ),
    tenfold: tenfoldFigure(run.stream, run.history?.table, run.severity, refs.sigma, labels.label),
  };
}

function ruleMetrics(name: string, z: Float64Array, k: number, labels: Labels): RuleMetrics {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < z.length; i++) {
    const l = labels.label[i];
    if (l === POSITIVE) {
      pos++;
      if (z[i]! >= k) tp++;
    } else if (l === NEGATIVE) {
      neg++;
      if (z[i]! >= k) fp++;
    }
  }
  return { name, tp, fp, ...prf(tp, fp, pos - tp), negativeRate: ratio(fp, neg) };
}

/**
 * The mean + k sigma rule with k set so that it flags the same share of negative spans as
 * hourglass's SEV<=3 does, and its recall there.
 */
function atRate(z: Float64Array, labels: Labels, rate: number, hourglassRecall: number) {
  const neg: number[] = [];
  const pos: number[] = [];
  for (let i = 0; i < z.length; i++) {
    const v = Number.isNaN(z[i]!) ? Number.NEGATIVE_INFINITY : z[i]!;
    if (labels.label[i] === NEGATIVE) neg.push(v);
    else if (labels.label[i] === POSITIVE) pos.push(v);
  }
  neg.sort((a, b) => b - a);
  const allowed = Math.floor(rate * neg.length);
  // Flag what scores above the (allowed + 1)-th highest negative: `allowed` false alarms at most.
  const k = allowed < neg.length ? neg[allowed]! : Number.NEGATIVE_INFINITY;
  const hits = pos.filter((v) => v > k).length;
  return { negativeRate: rate, k, ruleRecall: ratio(hits, pos.length), hourglassRecall };
}

function faultScore(
  run: ReplayRun,
  labels: Labels,
  sigma: Float64Array,
  f: Fault,
  j: number,
): FaultScore {
  const t = run.stream.table;
  const c: Counts = counts();
  let firstPositive = Number.POSITIVE_INFINITY;
  let firstSigma3 = Number.POSITIVE_INFINITY;
  const firstTag = new Array<number>(6).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < t.count; i++) {
    if (labels.fault[i] !== j) continue;
    const sev = run.severity[i]!;
    c[sev]!++;
    const end = t.endMs(i);
    firstPositive = Math.min(firstPositive, end);
    if (sigma[i]! >= 3) firstSigma3 = Math.min(firstSigma3, end);
    if (sev > 0) for (let cut = sev; cut <= 5; cut++) firstTag[cut] = Math.min(firstTag[cut]!, end);
  }
  const seconds = (ms: number) => (Number.isFinite(ms) ? (ms - f.at) / 1000 : null);
  return {
    at: new Date(f.at).toISOString(),
    pod: f.pod,
    type: f.type,
    positives: total(c),
    recall: shares(c),
    firstPositiveS: seconds(firstPositive),
    firstTagS: CUTS.map((cut) => seconds(firstTag[cut]!)),
    firstSigma3S: seconds(firstSigma3),
  };
}
