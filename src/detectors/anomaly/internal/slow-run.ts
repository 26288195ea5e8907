import { THR_P95, THR_P99, THR_SEV5, THR_SEVERITIES } from './thr-layout.js';

/**
 * A short run of slow spans of one key: the evidence of a slowdown of a call made a few times a
 * minute, where the level (level.ts), an average over about 30 spans, takes 5 to 8 of them
 * (minutes) to rise. Each span beyond its slot's p95 gets its tail rate under the slot's learned
 * thresholds (`tailRate`: the share of the slot's normal spans at least as slow); the run is the
 * key's last spans that were all beyond p95. For the last k of them (k = 2 .. RUN_MAX), each at
 * most as likely as the least rare of them, P, the chance of such a run on normal traffic is P^k
 * (independent spans). It is read at the level's rate of each severity (the run is evidence of a
 * slow operation and shares its budget), split between the run lengths tested, and with its
 * evidence counted at 1 / RUN_EVIDENCE (as the error CUSUM does): P^k^(1/1.25) at most the rate
 * over RUN_MAX - 1.
 *
 * Spans close in time share their causes (a request that calls the key three times, a pause of
 * the host): the spans that start within RUN_GAP_MS of the first of an observation are that one
 * observation (the least rare of them, the least slow), so the observations of a run are at least
 * RUN_GAP_MS apart: on a busy call a run of three takes 10 s of nothing but slow spans, which the
 * level sees first.
 *
 * A run reaches SEV3 or SEV2 only, bounded by its size as the level is (`LEVEL_MIN_RATIO`: the
 * least of its spans' ratios to their medians): SEV2 needs every span of the run 3x its median.
 * Lower severities are the level's: it sees smaller slowdowns than a run of spans beyond p95.
 */
export const RUN_MAX = 3;
/** Numbers in a stored run (`SlowRun.snapshot`). */
export const RUN_STATE = 2 + 2 * RUN_MAX;
/** Spans of a key that start within this of an observation's first span are that observation. */
export const RUN_GAP_MS = 5_000;
/** Evidence counted at 1 / RUN_EVIDENCE: a margin for tails read from the key's history. */
export const RUN_EVIDENCE = 1.25;
/** The most severe and the least severe severity a run can reach. */
const RUN_BEST = 2;
const RUN_WORST = 3;
const P95_RATE = 0.05;
const P99_RATE = 0.01;

export class SlowRun {
  /** Tail rates and ratios to the slot's median of the run's spans, oldest first. */
  private readonly rates = new Float64Array(RUN_MAX);
  private readonly ratios = new Float64Array(RUN_MAX);
  /** Spans (observations) in the run. */
  length = 0;
  /** Start (ms) of the first span of the run's last observation (spans merged into it). */
  private start = 0;

  /** Ends the run: a span at or below its slot's p95, or one the run cannot judge. */
  reset(): void {
    this.length = 0;
  }

  /**
   * Adds a span beyond its slot's p95: its tail rate, its ratio to the median, and its start (ms).
   * Within RUN_GAP_MS of the start of the run's last observation it is merged into that one.
   */
  add(rate: number, ratio: number, start: number): void {
    const n = this.length;
    if (n > 0 && start - this.start < RUN_GAP_MS) {
      const last = n - 1;
      if (rate > this.rates[last]!) this.rates[last] = rate;
      if (ratio < this.ratios[last]!) this.ratios[last] = ratio;
      return;
    }
    if (n < RUN_MAX) {
      this.length = n + 1;
    } else {
      this.rates.copyWithin(0, 1);
      this.ratios.copyWithin(0, 1);
    }
    this.rates[this.length - 1] = rate;
    this.ratios[this.length - 1] = ratio;
    this.start = start;
  }

  /** The run as the store keeps it (level-codec.ts): its length, last start, rates, ratios. */
  snapshot(): number[] {
    return [this.length, this.start, ...this.rates, ...this.ratios];
  }

  /** Takes up a stored run (`snapshot`; RUN_STATE numbers, checked by the codec). */
  restore(v: readonly number[]): void {
    this.length = v[0]!;
    this.start = v[1]!;
    for (let i = 0; i < RUN_MAX; i++) {
      this.rates[i] = v[2 + i]!;
      this.ratios[i] = v[2 + RUN_MAX + i]!;
    }
  }

  /**
   * The severity (2 or 3; 0: none) of the run's last k spans for the best k, each capped by the
   * least ratio of its k spans (`cap`: `cappedSeverity`), and that ratio. `limits[s]` is the
   * highest ln(P^k) severity s may have (`runLimits`).
   */
  judge(
    limits: Float64Array,
    cap: (severity: number, ratio: number) => number,
  ): { severity: number; ratio: number } {
    let best = 0;
    let bestRatio = Number.NaN;
    let p = 0;
    let ratio = Number.POSITIVE_INFINITY;
    const n = this.length;
    for (let k = 1; k <= n; k++) {
      const i = n - k;
      if (this.rates[i]! > p) p = this.rates[i]!;
      if (this.ratios[i]! < ratio) ratio = this.ratios[i]!;
      if (k < 2) continue;
      const joint = k * Math.log(p);
      let sev = 0;
      for (let s = RUN_BEST; s <= RUN_WORST; s++) {
        if (joint <= limits[s]!) {
          sev = s;
          break;
        }
      }
      if (sev === 0) continue;
      sev = cap(sev, ratio);
      if (sev !== 0 && (best === 0 || sev < best)) {
        best = sev;
        bestRatio = ratio;
      }
    }
    return { severity: best, ratio: bestRatio };
  }
}

/**
 * `ln` of the highest P^k each severity (index 1..5) may have on a run, from the level's
 * percentiles (`[sev5 .. sev1]`, fractions: `splitPercentiles(...).level`); -Infinity for the
 * severities a run does not reach.
 */
export function runLimits(levelPercentiles: readonly number[]): Float64Array {
  const out = new Float64Array(6).fill(Number.NEGATIVE_INFINITY);
  for (let s = RUN_BEST; s <= RUN_WORST; s++) {
    const rate = 1 - levelPercentiles[5 - s]!;
    out[s] = RUN_EVIDENCE * Math.log(rate / (RUN_MAX - 1));
  }
  return out;
}

/**
 * The share of a slot's normal spans at least as slow as `d` (beyond its p95), read from its
 * learned thresholds: p95 at 5%, p99 at 1%, SEV5 .. SEV1 at their point rates (`pointRates`,
 * `[sev5 .. sev1]`), interpolated linearly in log duration and log rate between them (a Pareto
 * tail between two thresholds), beyond SEV1 as a Pareto tail of index 1. Thresholds are upper
 * confidence bounds of the slot's percentiles, so the rate errs on the common side. Never below
 * `floor` (the rarity the key's history can support). NaN when the slot has none.
 */
export function tailRate(
  thr: Float32Array,
  at: number,
  d: number,
  pointRates: Float64Array,
  floor: number,
): number {
  let x0 = thr[at + THR_P95]!;
  let r0 = P95_RATE;
  if (!(d > x0)) return Number.NaN;
  for (let k = -1; k < THR_SEVERITIES; k++) {
    const x1 = k < 0 ? thr[at + THR_P99]! : thr[at + THR_SEV5 + k]!;
    const r1 = k < 0 ? P99_RATE : pointRates[k]!;
    if (!(x1 > x0) || !(r1 < r0)) continue;
    if (d <= x1) {
      const r = r0 * Math.exp((Math.log(d / x0) / Math.log(x1 / x0)) * Math.log(r1 / r0));
      return r > floor ? r : floor;
    }
    x0 = x1;
    r0 = r1;
  }
  const r = (r0 * x0) / d;
  return r > floor ? r : floor;
}
