import { probit } from 'simple-statistics';
import { THR_P50, THR_P95, THR_P99 } from './thr-layout.js';

/**
 * Sustained slowdowns. One slow span is judged by its own duration (the point thresholds); an
 * operation whose spans are all a little slower (2x on a call whose spans vary by 2x anyway) is
 * judged by its recent level: each span scores u = how many of its slot's p50, p95 and p99 it
 * exceeds (0..3; on clean traffic 0.56 on average whatever the distribution's shape), and the key
 * keeps an exponentially weighted moving average of u over its recent spans (about 30).
 *
 * What that average does on normal traffic (including the slow wander of an operation's level
 * within the hour and from day to day) is learned: every span's level is counted in a histogram,
 * and each recalculation sets the level thresholds at the share of the severity percentiles given
 * to sustained slowdowns, from the histogram's median and interquartile spread (robust to the few
 * incidents in it), with a skewness correction, never below what independent spans would give.
 * The histogram forgets 15% at every full recalculation (nightly), so it follows the last week or
 * so.
 */
export const LEVEL_ALPHA = 1 / 16;
/**
 * The size of a slowdown (`LevelState.ratio()`) also forgets with time: a span that comes `dt`
 * after the key's previous one weighs at least `1 - exp(-dt / LEVEL_TAU_MS)`. A busy call (many
 * spans a second) averages its last 30 or so spans; a call made a few times a minute mostly its
 * last minute, so that tagging stops within a minute of its slowdown ending rather than after its
 * next 30 calls. The rarity (`value`) keeps averaging 30 spans: a 2x slowdown of a call made once
 * a minute shows in no single span.
 */
export const LEVEL_TAU_MS = 20_000;
// Below this gap the time weight is under LEVEL_ALPHA: no exp() on the hot path of busy calls.
const TAU_FREE_MS = -LEVEL_TAU_MS * Math.log(1 - LEVEL_ALPHA);
/** Share of each severity's false-alarm budget (1 - its percentile) given to sustained slowdowns. */
export const LEVEL_SHARE = 0.5;
/** Spans a key's histogram needs before its level thresholds are set. */
export const LEVEL_MIN_SAMPLES = 1000;
/**
 * Time its counted spans must span before a key's first level thresholds are set. A busy call
 * counts LEVEL_MIN_SAMPLES spans within seconds, all from one state of the system: thresholds
 * read from them are as narrow as those seconds (on a fresh install, SEV3 at 1.16 where a day's
 * traffic needs 2.3 or more, and once set they count only what lies below SEV3, so they stay
 * there). Evidence of what the level does is counted in time as well as in spans.
 */
export const LEVEL_MIN_SPAN_MS = 10 * 60_000;
/** One span in this many is counted in the histogram (neighbouring levels are nearly equal). */
const COUNT_EVERY = 4;
/**
 * What the histogram keeps at each recalculation (nightly): it remembers the last week or so, so
 * that a slowdown creeping in over a day or two does not become its normal.
 */
const KEEP = 0.85;
/** One span moves the size of a slowdown by at most a factor e^3 (20x) either way. */
const LOG_RATIO_MAX = 3;
/** Index of SEV3 in `[sev5 .. sev1]` thresholds. */
const SEV3 = 2;
const STEP = 0.005;
const TAIL_LADDER = [0.5, 0.9, 0.99, 0.999];
/** Independent stretches of traffic beyond a percentile of the level before it is read. */
const TAIL_COUNT = 5;
export const LEVEL_BINS = Math.round(3 / STEP) + 1;
const BINS = LEVEL_BINS;
/** The longest gap between spans the interval estimate (`LevelState.gap`) takes as it is. */
const GAP_MAX_MS = 3_600_000;

// u on clean traffic: P(u = 0..3) = 0.5, 0.45, 0.04, 0.01.
const U_PROBABILITIES = [0.5, 0.45, 0.04, 0.01];
export const U_MEAN = U_PROBABILITIES.reduce((s, p, u) => s + p * u, 0);
const U_SD = Math.sqrt(U_PROBABILITIES.reduce((s, p, u) => s + p * (u - U_MEAN) ** 2, 0));
const U_SKEW = U_PROBABILITIES.reduce((s, p, u) => s + p * (u - U_MEAN) ** 3, 0) / U_SD ** 3;
// The average of independent u: spread and skewness under the exponential weights.
const W2 = LEVEL_ALPHA / (2 - LEVEL_ALPHA);
const W3 = LEVEL_ALPHA ** 3 / (1 - (1 - LEVEL_ALPHA) ** 3);
const LEVEL_SD_INDEPENDENT = U_SD * Math.sqrt(W2);
const LEVEL_SKEW = (U_SKEW * W3) / W2 ** 1.5;

/**
 * The configured severity percentiles (`[sev5 .. sev1]`, fractions) split between the point
 * thresholds and the level thresholds, so that together they fire at the configured rates.
 */
export function splitPercentiles(percentiles: readonly number[]): {
  point: number[];
  level: number[];
} {
  return {
    point: percentiles.map((q) => 1 - (1 - q) * (1 - LEVEL_SHARE)),
    level: percentiles.map((q) => 1 - (1 - q) * LEVEL_SHARE),
  };
}

export class LevelState {
  /** The moving average of u. */
  value = U_MEAN;
  /**
   * The moving average of ln(duration / the slot's p50) (clamped to +-LOG_RATIO_MAX), weighted by
   * count and time (LEVEL_TAU_MS): how much slower the operation's recent spans are than its
   * median, the size of a slowdown (`ratio()`), where `value` is its rarity.
   */
  logRatio = 0;
  /** Where SEV5 .. SEV1 start on `value`; undefined until learned. */
  thresholds: Float64Array | undefined;
  /**
   * Until `thresholds` are learned: the thresholds the key's service's learned levels show, or
   * the processor's (`LevelPool`), so that a new key called once a minute, which takes many hours
   * to count LEVEL_MIN_SAMPLES spans, can still tag a sustained slowdown.
   */
  borrowed: Float64Array | undefined;
  /** Bumped whenever `thresholds` are set (the pool is read again). */
  version = 0;
  /** Spans counted in the histogram (decayed). */
  samples = 0;
  /** End time (ms) of the last span observed with a time; 0 before the first. */
  private last = 0;
  /**
   * The key's usual time between spans (ms; a moving average over about 30 spans, as the level):
   * how many spans a downtime stands for (`resume`). 0 before the second span.
   */
  private gap = 0;
  /** `last` when the histogram first counted a span (0: none counted with a time). */
  private firstCounted = 0;
  private tick = 0;
  private histogram: Float32Array | undefined;
  /** What was last written to the store (level-saves.ts): when, and the state it had. */
  saved: LevelStamp = { at: 0, last: 0, samples: 0, version: 0 };

  /**
   * Adds a span of duration `d` scored against slot `at` of `thr` (`KeyState.thr`), ending at `t`
   * (ms; omitted: weighted by count only): u, how many of the slot's p50, p95 and p99 it exceeds.
   * Returns the new level. Every COUNT_EVERY spans the level is counted in the histogram, unless
   * it is a sustained slowdown of SEV3 or worse: what the histogram learns is what normal traffic
   * does.
   */
  observe(thr: Float32Array, at: number, d: number, t?: number): number {
    const u =
      (d > thr[at + THR_P50]! ? 1 : 0) +
      (d > thr[at + THR_P95]! ? 1 : 0) +
      (d > thr[at + THR_P99]! ? 1 : 0);
    const v = this.value + LEVEL_ALPHA * (u - this.value);
    this.value = v;
    let alpha = LEVEL_ALPHA;
    if (t !== undefined) {
      const dt = t - this.last;
      if (this.last > 0) {
        if (dt > TAU_FREE_MS) alpha = 1 - Math.exp(-dt / LEVEL_TAU_MS);
        // Spans out of order move `last` by nothing: the average is the time per span.
        const g = dt <= 0 ? 0 : dt < GAP_MAX_MS ? dt : GAP_MAX_MS;
        this.gap = this.gap === 0 ? g : this.gap + LEVEL_ALPHA * (g - this.gap);
      }
      if (t > this.last) this.last = t;
    }
    let lr = Math.log(d / thr[at + THR_P50]!);
    lr = lr > LOG_RATIO_MAX ? LOG_RATIO_MAX : lr < -LOG_RATIO_MAX ? -LOG_RATIO_MAX : lr;
    this.logRatio += alpha * (lr - this.logRatio);
    if (++this.tick === COUNT_EVERY) {
      this.tick = 0;
      const t = this.thresholds;
      if (t === undefined || v < t[SEV3]!) this.count(v);
    }
    return v;
  }

  /** Whether the histogram's spans span LEVEL_MIN_SPAN_MS (always, when observed without times). */
  private spread(): boolean {
    return this.firstCounted === 0 || this.last - this.firstCounted >= LEVEL_MIN_SPAN_MS;
  }

  /** How much slower than their slots' medians the key's recent spans are (1: as usual). */
  ratio(): number {
    return Math.exp(this.logRatio);
  }

  /** What the store keeps of the level (level-codec.ts). */
  snapshot(): LevelSnapshot {
    return {
      value: this.value,
      logRatio: this.logRatio,
      last: this.last,
      gap: this.gap,
      samples: this.samples,
      firstCounted: this.firstCounted,
      tick: this.tick,
      thresholds: this.thresholds,
      histogram: this.histogram,
    };
  }

  /**
   * Takes up a level stored at `savedAt` after a restart at `now`, a downtime after it was stored. The histogram, its
   * counts and thresholds are as they were. The live state ages: the rarity as if the spans the
   * key usually gets in that time (`gap`) had come at the normal level (a key called every 10 ms
   * forgets a slowdown within a second of downtime, one called once a minute keeps most of it
   * over a one-minute deploy); the size forgets with time anyway (LEVEL_TAU_MS from `last`).
   */
  resume(s: LevelSnapshot, savedAt: number, now: number): void {
    const downtimeMs = now - savedAt;
    const missed = downtimeMs <= 0 ? 0 : s.gap > 0 ? downtimeMs / s.gap : Infinity;
    this.value = U_MEAN + (s.value - U_MEAN) * (1 - LEVEL_ALPHA) ** missed;
    this.logRatio = s.logRatio;
    this.last = s.last;
    this.gap = s.gap;
    this.samples = s.samples;
    this.firstCounted = s.firstCounted;
    this.tick = s.tick;
    this.histogram = s.histogram;
    this.thresholds = s.thresholds;
    if (s.thresholds !== undefined) {
      this.borrowed = undefined;
      this.version++;
    }
    this.saved = this.stamp(savedAt);
  }

  /** The state as of `at`, to compare with `saved` (level-saves.ts). */
  stamp(at: number): LevelStamp {
    return { at, last: this.last, samples: this.samples, version: this.version };
  }

  /** Whether it changed since it was last written to the store. */
  get unsaved(): boolean {
    const s = this.saved;
    return this.last !== s.last || this.samples !== s.samples || this.version !== s.version;
  }

  /** Whether nothing has been observed or counted yet (a key new since the start). */
  get blank(): boolean {
    return this.last === 0 && this.histogram === undefined && this.thresholds === undefined;
  }

  private count(v: number): void {
    const h = (this.histogram ??= new Float32Array(BINS));
    if (this.firstCounted === 0) this.firstCounted = this.last;
    const i = Math.round(v / STEP);
    h[i < 0 ? 0 : i >= BINS ? BINS - 1 : i]! += COUNT_EVERY;
    this.samples += COUNT_EVERY;
  }

  /**
   * Sets the thresholds from the histogram for `percentiles` (`[sev5 .. sev1]`, fractions), then
   * (at a full recalculation) forgets 15% of it. Keeps the previous thresholds while fewer than
   * LEVEL_MIN_SAMPLES spans have been counted, and sets none before the counted spans span
   * LEVEL_MIN_SPAN_MS.
   */
  recompute(percentiles: readonly number[], forget = true): void {
    const h = this.histogram;
    if (!h) return;
    if (this.samples >= LEVEL_MIN_SAMPLES && (this.thresholds !== undefined || this.spread())) {
      this.thresholds = levelThresholds(h, percentiles);
      this.borrowed = undefined;
      this.version++;
    }
    if (!forget) return;
    for (let i = 0; i < h.length; i++) h[i]! *= KEEP;
    this.samples *= KEEP;
  }
}

/** A level as the store keeps it (`LevelState.snapshot`, `resume`). */
export interface LevelSnapshot {
  readonly value: number;
  readonly logRatio: number;
  readonly last: number;
  readonly gap: number;
  readonly samples: number;
  readonly firstCounted: number;
  /** Spans since the histogram last counted one (0 .. COUNT_EVERY - 1). */
  readonly tick: number;
  readonly thresholds: Float64Array | undefined;
  readonly histogram: Float32Array | undefined;
}

/** When a level was written to the store, and what it had seen then (`LevelState.unsaved`). */
export interface LevelStamp {
  readonly at: number;
  readonly last: number;
  readonly samples: number;
  readonly version: number;
}

/** What LevelPool needs of a key. */
export interface LevelOwner {
  readonly service: string;
  readonly level: LevelState;
}

/**
 * Level thresholds for keys without learned ones. A key learns its own from LEVEL_MIN_SAMPLES
 * spans counted live (the store keeps them across restarts, level-saves.ts, but not `hourglass
 * backfill`), so a new key called once or twice a minute has none for many hours, though its
 * level rises over a slowdown's spans. Until then
 * it borrows, severity by severity, the median of the learned thresholds of its service's keys,
 * or, when none of them has learned any, of every key's: what a typical level does on normal
 * traffic. The size bound (level-shift.ts) and the rule that only spans slower than their
 * baseline carry a slowdown apply as to any key.
 */
export class LevelPool {
  private version = -1;
  private byService = new Map<string, Float64Array>();
  private all: Float64Array | undefined;

  /**
   * Gives keys whose histogram has LEVEL_MIN_SAMPLES spans over LEVEL_MIN_SPAN_MS their first
   * thresholds (`percentiles`), and keys still without any their borrowed ones. The pool is read
   * again only when some key's thresholds changed since the last call.
   */
  update(keys: () => Iterable<LevelOwner>, percentiles: readonly number[]): void {
    let version = 0;
    const learning: LevelOwner[] = [];
    for (const k of keys()) {
      const level = k.level;
      if (level.thresholds === undefined && level.samples >= LEVEL_MIN_SAMPLES) {
        level.recompute(percentiles, false);
      }
      version += level.version;
      if (level.thresholds === undefined) learning.push(k);
    }
    if (learning.length === 0) return;
    if (version !== this.version) {
      this.version = version;
      this.read(keys());
    }
    for (const k of learning) k.level.borrowed = this.byService.get(k.service) ?? this.all;
  }

  private read(keys: Iterable<LevelOwner>): void {
    const learned = new Map<string, Float64Array[]>();
    const all: Float64Array[] = [];
    for (const k of keys) {
      const t = k.level.thresholds;
      if (t === undefined) continue;
      all.push(t);
      const list = learned.get(k.service);
      if (list) list.push(t);
      else learned.set(k.service, [t]);
    }
    this.byService = new Map([...learned].map(([service, list]) => [service, medianOf(list)]));
    this.all = all.length > 0 ? medianOf(all) : undefined;
  }
}

/** Severity by severity, the (upper) median of thresholds, kept increasing. */
function medianOf(list: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(list[0]!.length);
  const column: number[] = [];
  for (let k = 0; k < out.length; k++) {
    column.length = 0;
    for (const t of list) column.push(t[k]!);
    column.sort((a, b) => a - b);
    out[k] = Math.max(column[column.length >> 1]!, k > 0 ? out[k - 1]! : 0);
  }
  return out;
}

/**
 * Thresholds on the level for `percentiles`: the higher of two readings of the histogram, (1) its
 * median and interquartile spread as a normal distribution, with the skewness of independent spans
 * (Cornish-Fisher), never narrower than independent spans make it, and (2) its own upper tail,
 * once it shows p99 with at least TAIL_COUNT independent stretches of traffic beyond it: read
 * where it shows them, extrapolated beyond linearly in normal quantiles from the two highest
 * percentiles it shows. (1) is robust to the few incidents counted; (2) follows what the level of
 * an operation with steep rush hours really does, which is more than a normal distribution says.
 */
function levelThresholds(h: Float32Array, percentiles: readonly number[]): Float64Array {
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i]!;
  const at = (q: number) => quantileOf(h, total, q);
  const median = at(0.5);
  const sd = Math.max((at(0.75) - at(0.25)) / 1.349, LEVEL_SD_INDEPENDENT);
  // Neighbouring levels share most of their spans: about 2 / alpha spans make one independent one.
  const independent = (total * LEVEL_ALPHA) / 2;
  const ladder = TAIL_LADDER.filter((q) => independent * (1 - q) >= TAIL_COUNT);
  const qb = ladder[ladder.length - 1]!;
  const qa = ladder[ladder.length - 2]!;
  const tailKnown = ladder.length >= 2 && qb >= 0.99;
  const slope = tailKnown ? (at(qb) - at(qa)) / (probit(qb) - probit(qa)) : 0;
  return Float64Array.from(percentiles, (q) => {
    // Read as a model, the histogram is asked for half the rate: extrapolation errs on silence.
    const z = probit(1 - (1 - q) / 2);
    const normal = median + sd * (z + ((z * z - 1) * LEVEL_SKEW) / 6);
    if (!tailKnown) return normal;
    const tail = q <= qb ? at(q) : at(qb) + Math.max(0, slope) * (z - probit(qb));
    return Math.max(normal, tail);
  });
}

function quantileOf(h: Float32Array, total: number, q: number): number {
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= rank) return i * STEP;
  }
  return (h.length - 1) * STEP;
}
