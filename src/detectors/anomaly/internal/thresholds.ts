import { probit } from 'simple-statistics';
import { countAt, meanAt, stddevAt } from './moments.js';
import type { Sketch } from './sketch.js';
import { DOW_BASE, GLOBAL_SLOT, HOUR_BASE, SLOT_COUNT } from './slots.js';
import { logScale, TailShape, TAIL_MIN, type LogScale } from './tail-shape.js';
import { boundThinSlots, parentSlot, type SlotReading } from './thin-slots.js';

/**
 * Adaptive thresholds: the duration at which each severity starts, per key and slot, learned from
 * the key's own history. See README.md ("How severities are learned"); in short:
 *
 * - Severity n starts at the slot's percentile `q_n` (99, 99.5, 99.9, 99.99, 99.999 by default
 *   for SEV5..SEV1): on clean traffic SEV3-or-worse then fires on at most ~0.1% of spans.
 * - A slot's percentile is its location and scale (p50, and the p50..p90 distance, in log space)
 *   applied to the key's tail shape, pooled over its buckets (tail-shape.ts); where the slot's own
 *   sketch holds at least TAIL_MIN values beyond the percentile, never below its own reading.
 * - Floors: never lighter than a log-normal tail (z of the shape at least the Gaussian quantile),
 *   and each severity at least 1% above the previous.
 * - Ceiling: beyond the highest percentile the shape shows (`TailShape.shown`), no heavier than a
 *   Pareto tail of index 1 in duration (`paretoBound`): the exponential extrapolation in z, read
 *   across the gap between a bimodal key's fast and slow modes, put SEV5 of 7 ms calls at 33-197 s.
 * - A slot's scale is shrunk towards the key's typical one (a few hundred spans read it noisily),
 *   so a bucket learns as soon as it has `min_samples` once the key has a shape: a slot of
 *   LEARN_MIN spans (p90 read from 20 values beyond it). Until then the key keeps the fixed
 *   cold-start thresholds (`fixed_thresholds`, in standard deviations).
 *
 * Thresholds are stored as standard deviations from the slot's mean at the recalculation (`z`), so
 * `mean + z * effectiveStddev(mean, stddev)` gives back the duration.
 */
export { TAIL_MIN };
export const LEARN_MIN = 200;
const MIN_STEP = 0.01;
/**
 * A span an order of magnitude slower than its slot's median is at least SEV3 on a key whose own
 * history (LEARN_MIN spans or more) shows such spans less often than SEV3's rate: the SEV3
 * threshold, and those below it, never lie above TENFOLD x the slot's p50 there (a thin slot's:
 * the lower of its own p50 and its parent's). The tail shape extrapolated from a bimodal key (a
 * cache hit at 5 ms, a miss at 80) can put SEV3 at hundreds of times the median; the key's own
 * history says a 10x span is rarer than that.
 */
export const TENFOLD = 10;
const TENFOLD_RATE = 0.001;
/*
 * What a shape tells: a tail shape pooled from N spans tells a point rate down to 1 in N, no rarer
 * (as a new span beyond all N of a sample is). Beyond that its percentiles are extrapolated, and
 * on real traffic the SEV5 .. SEV3 thresholds extrapolated from shapes of fewer than 1,000 spans
 * were exceeded by 0.6-1% of later normal spans (TrainTicket; SEV3's share is 0.05%), from 2,000
 * spans on about as often as their rates. So a severity up to SEV3 whose point rate its key's shape
 * cannot tell starts no lower than an order of magnitude does (TENFOLD, the same ladder): with the
 * default percentiles SEV4 needs a shape of 400 spans, SEV3 2,000; below that a span 10x its
 * slot's median is SEV3, a smaller one at most what the shape tells. SEV2 and SEV1 lie above SEV3.
 */
export const SEV3 = 2;

export type ThresholdSource = 'learned' | 'fixed';

export interface SlotThresholds {
  readonly slot: number;
  readonly samples: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** `[sev5, sev4, sev3, sev2, sev1]` in standard deviations; null while `fixed`. */
  readonly z: readonly number[] | null;
  readonly source: ThresholdSource;
  readonly computedAt: number;
}

/**
 * The standard deviation used for scores: at least 1% of the mean (and 1 us), so that a slot whose
 * spans always take exactly the same time does not call a 0.1% change a 100-sigma event.
 */
export function effectiveStddev(mean: number, stddev: number): number {
  const floor = mean * 0.01;
  return stddev > floor ? stddev : floor > 0.001 ? floor : 0.001;
}

/** The durations `[sev5 .. sev1]` of learned thresholds (what scoring compares with). */
export function thresholdDurations(t: SlotThresholds): number[] | null {
  if (!t.z) return null;
  const sd = effectiveStddev(t.mean, t.stddev);
  return t.z.map((z) => t.mean + z * sd);
}

export interface LearnOptions {
  /** Percentiles as fractions, `[sev5 .. sev1]` (0.99 .. 0.99999). */
  readonly percentiles: readonly number[];
  readonly minSamples: number;
  readonly now: number;
}

/**
 * Thresholds of every slot of one key with at least `minSamples` spans, from its window's merged
 * moments (`[count, mean, m2]` per slot), sketches, and the daily sketches of each dow_hour bucket.
 */
export function learnKey(
  m: Float64Array,
  sketches: readonly (Sketch | undefined)[],
  days: readonly (readonly Sketch[])[],
  o: LearnOptions,
  tenfold: TenfoldCount = tenfoldCount(m, sketches),
): SlotThresholds[] {
  const level = shapeLevel(m);
  const scales = shrunkScales(m, sketches, o.minSamples, level);
  const shape = level ? pooledShape(level, m, sketches, days, scales) : new TailShape();
  let previous = Number.NEGATIVE_INFINITY;
  const zq = o.percentiles.map((q) => {
    const z = Math.max(shape.quantile(q), probit(q), previous + MIN_STEP);
    previous = z;
    return z;
  });
  const learnable = zq.every((z) => !Number.isNaN(z));
  const shown = shape.shown();
  const tenfoldRare = tenfoldRareIn(tenfold, countAt(m, GLOBAL_SLOT));
  const slots: {
    readonly slot: number;
    readonly n: number;
    readonly reading: SlotReading;
    /** Its own median, before a thin slot is read no lower than its parent. */
    readonly p50: number;
  }[] = [];
  const readings: (SlotReading | undefined)[] = new Array<SlotReading | undefined>(SLOT_COUNT);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const sketch = sketches[slot];
    const n = countAt(m, slot);
    if (!sketch || n < o.minSamples) continue;
    const p50 = sketch.quantile(0.5);
    const s = scales[slot];
    let ms: number[] | null = null;
    if (s && learnable) {
      let last = 0;
      ms = o.percentiles.map((q, k) => {
        let x = Math.exp(s.location + s.scale * zq[k]!);
        if (shown && q > shown.q) x = Math.min(x, paretoBound(s, shown, q));
        if (n * (1 - q) >= TAIL_MIN) x = Math.max(x, sketch.quantile(q));
        if (tenfoldRare && k <= SEV3) x = Math.min(x, tenfoldCap(p50, k));
        if (k <= SEV3 && shape.total * (1 - q) < 1) x = Math.max(x, tenfoldCap(p50, k));
        if (k > 0 && x < last * (1 + MIN_STEP)) x = last * (1 + MIN_STEP);
        last = x;
        return x;
      });
    }
    const reading = { p50, p95: sketch.quantile(0.95), p99: sketch.quantile(0.99), ms };
    readings[slot] = reading;
    slots.push({ slot, n, reading, p50 });
  }
  boundThinSlots(m, readings, LEARN_MIN);
  // The 10x cap of a thin slot, after the bound raised its thresholds to its parent's: at the
  // lower of the two medians. Its own few spans and its parent (another day, the whole week) are
  // both uncertain readings of the hour's median, and a span 10x either is rarer than SEV3 here.
  if (tenfoldRare) {
    const medians = new Map(slots.map(({ slot, p50 }) => [slot, p50]));
    for (const { slot, n, reading, p50 } of slots) {
      const ms = reading.ms;
      if (!ms || n >= LEARN_MIN) continue;
      const parent = parentSlot(m, slot, LEARN_MIN);
      const p = parent === undefined ? undefined : medians.get(parent);
      const median = p !== undefined && p < p50 ? p : p50;
      for (let k = 0; k <= SEV3; k++) ms[k] = Math.min(ms[k]!, tenfoldCap(median, k));
    }
  }
  return slots.map(({ slot, n, reading: { p50, p95, p99, ms } }) => {
    const mean = meanAt(m, slot);
    const stddev = stddevAt(m, slot);
    const base = { slot, samples: n, mean, stddev, p50, p95, p99, computedAt: o.now };
    if (!ms) return { ...base, z: null, source: 'fixed' as const };
    const sd = effectiveStddev(mean, stddev);
    return { ...base, z: ms.map((x) => (x - mean) / sd), source: 'learned' as const };
  });
}

/**
 * The duration a slot's tail reaches at percentile `q`, beyond the shape's highest shown percentile
 * `shown`, if it is no heavier than a Pareto tail of index 1 there: P(X > x) falling as 1 / x, so
 * the duration grows as the rarity does (p99 at 70 ms: p99.9 at 700 ms at most).
 */
function paretoBound(s: LogScale, shown: { q: number; z: number }, q: number): number {
  return (Math.exp(s.location + s.scale * shown.z) * (1 - shown.q)) / (1 - q);
}

/** The highest duration of severity `[sev5 .. sev1]` index `k` (SEV3 or lower) at median `p50`. */
export function tenfoldCap(p50: number, k: number): number {
  return (TENFOLD * p50) / (1 + MIN_STEP) ** (SEV3 - k);
}

/** A key's spans at least TENFOLD x their median, of `total` spans (`tenfoldCount`). */
export interface TenfoldCount {
  readonly beyond: number;
  readonly total: number;
}

/**
 * Whether such spans are rare on a key of `seen` spans: LEARN_MIN spans or more, less than once
 * in 1 / TENFOLD_RATE. Read at a recalculation (`learnKey`) and at each span (the key's count kept
 * since, key-state.ts): a key whose history outgrew its last reading is judged by what it has seen.
 */
export function tenfoldRareIn(c: TenfoldCount, seen: number): boolean {
  return seen >= LEARN_MIN && c.total > 0 && c.beyond < TENFOLD_RATE * c.total;
}

/**
 * A key's spans at least TENFOLD x the median of their dow_hour bucket (of the buckets with a
 * sketch), or of the key's median when no bucket has one.
 */
export function tenfoldCount(
  m: Float64Array,
  sketches: readonly (Sketch | undefined)[],
): TenfoldCount {
  let beyond = 0;
  let total = 0;
  const count = (sketch: Sketch) => {
    const limit = TENFOLD * sketch.quantile(0.5);
    sketch.forEachBin((value, c) => {
      if (value >= limit) beyond += c;
    });
    total += sketch.count;
  };
  for (let slot = 0; slot < HOUR_BASE; slot++) {
    const sketch = sketches[slot];
    if (sketch && countAt(m, slot) > 0) count(sketch);
  }
  if (total === 0 && sketches[GLOBAL_SLOT]) count(sketches[GLOBAL_SLOT]);
  return { beyond, total };
}

type Level = readonly [from: number, to: number];
const LEVELS: readonly Level[] = [
  [0, HOUR_BASE],
  [HOUR_BASE, DOW_BASE],
  [DOW_BASE, GLOBAL_SLOT],
  [GLOBAL_SLOT, SLOT_COUNT],
];

/** The most specific level (slot range) with a slot of LEARN_MIN spans; undefined: none yet. */
function shapeLevel(m: Float64Array): Level | undefined {
  return LEVELS.find(([from, to]) => {
    for (let slot = from; slot < to; slot++) if (countAt(m, slot) >= LEARN_MIN) return true;
    return false;
  });
}

/**
 * Location and scale of every slot with `minSamples`. A scale read from a few hundred spans is
 * noisy, and a rare percentile multiplies its error; it is shrunk towards the key's typical scale
 * (the median over the shape's slots) as if LEARN_MIN spans of that had been seen too.
 */
function shrunkScales(
  m: Float64Array,
  sketches: readonly (Sketch | undefined)[],
  minSamples: number,
  level: Level | undefined,
): (LogScale | undefined)[] {
  const raw = sketches.map((sketch, slot) =>
    sketch && countAt(m, slot) >= minSamples ? logScale(sketch) : undefined,
  );
  if (!level) return raw;
  const typical: number[] = [];
  for (let slot = level[0]; slot < level[1]; slot++) {
    if (countAt(m, slot) >= LEARN_MIN) typical.push(raw[slot]!.scale);
  }
  typical.sort((a, b) => a - b);
  const keyScale = typical[Math.floor(typical.length / 2)]!;
  return raw.map((s, slot) => {
    if (!s) return undefined;
    const n = countAt(m, slot);
    return { location: s.location, scale: (n * s.scale + LEARN_MIN * keyScale) / (n + LEARN_MIN) };
  });
}

/**
 * The tail shape, from the slots of `level` that hold LEARN_MIN spans. A dow_hour bucket's days
 * are standardised with the location the bucket's other days give (leave one out): thresholds
 * judge a new day by the days before it, so the shape must include how far one day's level strays
 * from the others'.
 */
function pooledShape(
  [from, to]: Level,
  m: Float64Array,
  sketches: readonly (Sketch | undefined)[],
  days: readonly (readonly Sketch[])[],
  scales: readonly (LogScale | undefined)[],
): TailShape {
  const shape = new TailShape();
  for (let slot = from; slot < to; slot++) {
    const s = scales[slot];
    if (!s || countAt(m, slot) < LEARN_MIN) continue;
    const rows = slot < HOUR_BASE ? (days[slot] ?? []) : [];
    if (rows.length < 2) {
      shape.add(sketches[slot]!, s.location, s.scale);
      continue;
    }
    const level = rows.map((r) => Math.log(Math.max(r.quantile(0.5), 1e-6)));
    let weight = 0;
    let sum = 0;
    rows.forEach((r, j) => {
      weight += r.count;
      sum += r.count * level[j]!;
    });
    rows.forEach((r, j) => {
      const others = weight - r.count;
      const location = others > 0 ? (sum - r.count * level[j]!) / others : s.location;
      shape.add(r, location, s.scale);
    });
  }
  return shape;
}
