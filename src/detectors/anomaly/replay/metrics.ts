/**
 * Counting verdicts against a ground truth, shared by `hourglass replay --faults` and the
 * detection benchmark: counts of spans by severity, and precision, recall and F1 per severity cut.
 */

/** Counts by severity: index 0 untagged, 1..5 SEV1..SEV5. */
export type Counts = Float64Array;
export const counts = (): Counts => new Float64Array(6);
export const CUTS = [1, 2, 3, 4, 5] as const;

/** Spans tagged SEV1 .. SEV`cut` (the "SEV<=cut" of the reports). */
export function atOrWorse(c: Counts, cut: number): number {
  let n = 0;
  for (let s = 1; s <= cut; s++) n += c[s]!;
  return n;
}

export function total(c: Counts): number {
  let n = 0;
  for (let s = 0; s <= 5; s++) n += c[s]!;
  return n;
}

export const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** Share of the spans counted in `c` tagged SEV<=cut, for cuts 1..5. */
export const shares = (c: Counts) => CUTS.map((cut) => ratio(atOrWorse(c, cut), total(c)));

export interface CutMetrics {
  readonly cut: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** False positives per hour of the evaluation period. */
  readonly fpPerHour: number;
}

/** Precision, recall and F1 from true and false positives and false negatives. */
export function prf(tp: number, fp: number, fn: number) {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 1;
  const recall = ratio(tp, tp + fn);
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** Precision, recall and F1 at one cut from positive and negative counts. */
export function cutMetrics(
  positive: Counts,
  negative: Counts,
  cut: number,
  hours: number,
): CutMetrics {
  const tp = atOrWorse(positive, cut);
  const fn = total(positive) - tp;
  const fp = atOrWorse(negative, cut);
  return { cut, tp, fp, fn, ...prf(tp, fp, fn), fpPerHour: ratio(fp, hours) };
}
