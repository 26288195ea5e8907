import { probit } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import {
  LEVEL_ALPHA,
  LEVEL_MIN_SAMPLES,
  LEVEL_MIN_SPAN_MS,
  LevelPool,
  LevelState,
  splitPercentiles,
} from '../../../src/detectors/anomaly/internal/level.js';
import {
  cappedSeverity,
  carriesShift,
} from '../../../src/detectors/anomaly/internal/level-shift.js';
import { severityOf } from '../../../src/detectors/anomaly/internal/severity.js';
import { THR_P50, THR_P95, THR_P99 } from '../../../src/detectors/anomaly/internal/thr-layout.js';
import { Random } from '../helpers/random.js';

const PERCENTILES = [0.99, 0.995, 0.999, 0.9999, 0.99999];
const { level: LEVEL } = splitPercentiles(PERCENTILES);

/** A slot's percentiles (`thr` layout) for a log-normal operation: median 100 ms, spread sigma. */
function slot(sigma: number): Float32Array {
  const thr = new Float32Array(8);
  thr[THR_P50] = 100;
  thr[THR_P95] = 100 * Math.exp(sigma * probit(0.95));
  thr[THR_P99] = 100 * Math.exp(sigma * probit(0.99));
  return thr;
}

/**
 * Plays `n` spans of that operation through a level, `factor` times slower, with an optional slow
 * wander of the operation's level (log space, changing every 200 spans); calls `seen` with each
 * level.
 */
function play(
  state: LevelState,
  r: Random,
  n: number,
  o: { sigma?: number; factor?: number; wander?: number; seen?: (v: number) => void },
): void {
  const sigma = o.sigma ?? 0.3;
  const thr = slot(sigma);
  let level = 0;
  for (let i = 0; i < n; i++) {
    if (o.wander && i % 200 === 0) level = o.wander * r.normal();
    const d = (o.factor ?? 1) * Math.exp(level) * r.latency(100, sigma);
    const v = state.observe(thr, 0, d);
    o.seen?.(v);
  }
}

/** Share of levels at or beyond each of `[sev5 .. sev1]`. */
function rates(state: LevelState, r: Random, n: number, wander = 0): number[] {
  const beyond = [0, 0, 0, 0, 0];
  const t = state.thresholds!;
  play(state, r, n, {
    wander,
    seen: (v) => {
      const sev = severityOf(v, t);
      for (let k = 0; k < 5 && sev > 0 && sev <= 5 - k; k++) beyond[k]!++;
    },
  });
  return beyond.map((b) => b / n);
}

describe('sustained slowdowns: the level', () => {
  it('splits each severity budget between single spans and the level', () => {
    const { point, level } = splitPercentiles(PERCENTILES);
    PERCENTILES.forEach((q, k) => {
      expect(1 - point[k]! + (1 - level[k]!)).toBeCloseTo(1 - q, 12);
      expect(point[k]).toBeGreaterThan(q);
    });
  });

  it('moves by how many of the slot percentiles a span exceeds', () => {
    const thr = slot(0.3); // p50 100, p95 164, p99 201 ms
    [
      [90, 0],
      [110, 1],
      [170, 2],
      [250, 3],
    ].forEach(([d, u]) => {
      const state = new LevelState();
      const before = state.value;
      expect(state.observe(thr, 0, d!)).toBeCloseTo(before + LEVEL_ALPHA * (u! - before), 12);
    });
  });

  it('learns no thresholds before it has seen enough spans, and forgets 15% a recalculation', () => {
    const r = new Random(1);
    const state = new LevelState();
    play(state, r, LEVEL_MIN_SAMPLES - 4, {});
    state.recompute(LEVEL);
    expect(state.thresholds).toBeUndefined();
    expect(state.samples).toBeCloseTo((LEVEL_MIN_SAMPLES - 4) * 0.85, 6);
    play(state, r, LEVEL_MIN_SAMPLES, {});
    state.recompute(LEVEL);
    expect(state.thresholds).toBeDefined();
  });

  it('learns its first thresholds only once its counted spans span LEVEL_MIN_SPAN_MS', () => {
    // A busy call: 100 spans a second. Its first 20 s are one state of the system (spans as
    // usual); then it runs 1.5x slower for a minute, as real operations wander within the hour.
    const r = new Random(4);
    const thr = slot(0.3);
    const state = new LevelState();
    let t = 1_700_000_000_000;
    const spans = (n: number, factor: number) => {
      for (let i = 0; i < n; i++) state.observe(thr, 0, factor * r.latency(100, 0.3), (t += 10));
    };
    spans(2000, 1);
    expect(state.samples).toBeGreaterThanOrEqual(LEVEL_MIN_SAMPLES);
    state.recompute(LEVEL, false);
    expect(state.thresholds).toBeUndefined();
    spans(6000, 1.5);
    // Idle until the span of time is covered, then a few spans as usual.
    t += LEVEL_MIN_SPAN_MS;
    spans(100, 1);
    state.recompute(LEVEL, false);
    const learned = state.thresholds!;
    expect(learned).toBeDefined();
    // What the first 20 s alone give (the same spans, no time): SEV3 below the slower minute's
    // level, which the thresholds learned over time hold as normal.
    const quick = new LevelState();
    const q = new Random(4);
    for (let i = 0; i < 2000; i++) quick.observe(thr, 0, q.latency(100, 0.3));
    quick.recompute(LEVEL, false);
    const slower = new LevelState();
    const s = new Random(5);
    let top = 0;
    for (let i = 0; i < 6000; i++) top = slower.observe(thr, 0, 1.5 * s.latency(100, 0.3));
    expect(quick.thresholds![2]).toBeLessThan(top);
    expect(learned[2]).toBeGreaterThan(top);
  });

  it("lends keys without a learned level their service's median thresholds, else every key's", () => {
    const r = new Random(3);
    const key = (service: string, sigma: number, spans: number) => {
      const level = new LevelState();
      play(level, r, spans, { sigma, wander: sigma });
      return { service, level };
    };
    // Three learned keys of `cart` (their levels wander more or less), one of `ads`, and keys
    // that have not counted enough spans yet.
    const keys = [
      key('cart', 0.1, 2000),
      key('cart', 0.3, 2000),
      key('cart', 0.6, 2000),
      key('ads', 0.3, 2000),
      key('cart', 0.3, 100),
      key('email', 0.3, 100),
    ];
    const pool = new LevelPool();
    pool.update(() => keys, LEVEL);
    const [a, b, c, ads, cart, email] = keys.map((k) => k.level);
    for (const learned of [a, b, c, ads]) expect(learned!.thresholds).toBeDefined();
    const median = (list: LevelState[], k: number) =>
      list.map((l) => l.thresholds![k]!).sort((x, y) => x - y)[list.length >> 1]!;
    for (let k = 0; k < 5; k++) {
      expect(cart!.borrowed![k]).toBe(
        Math.max(median([a!, b!, c!], k), k > 0 ? cart!.borrowed![k - 1]! : 0),
      );
      expect(email!.borrowed![k]).toBe(
        Math.max(median([a!, b!, c!, ads!], k), k > 0 ? email!.borrowed![k - 1]! : 0),
      );
    }
    expect(a!.borrowed).toBeUndefined();
    // A key that learns its own stops borrowing.
    play(cart!, r, LEVEL_MIN_SAMPLES, {});
    pool.update(() => keys, LEVEL);
    expect(cart!.thresholds).toBeDefined();
    expect(cart!.borrowed).toBeUndefined();
  });

  it.each([
    ['independent spans', 0],
    ['an operation whose level wanders by 5%', 0.05],
  ])('fires on normal traffic at no more than its share of the rates: %s', (_, wander) => {
    const r = new Random(2);
    const state = new LevelState();
    play(state, r, 400_000, { wander });
    state.recompute(LEVEL);
    const measured = rates(state, r, 2_000_000, wander);
    LEVEL.forEach((q, k) => expect(measured[k]).toBeLessThanOrEqual((1 - q) * 1.2));
  });

  it('rises above SEV3 within a few spans of a 2x slowdown and stays there', () => {
    const r = new Random(3);
    const state = new LevelState();
    play(state, r, 200_000, { wander: 0.05 });
    state.recompute(LEVEL);
    const t = state.thresholds!;
    let first = -1;
    let above = 0;
    let i = 0;
    play(state, r, 1000, {
      factor: 2,
      seen: (v) => {
        if (v >= t[2]!) {
          above++;
          if (first < 0) first = i;
        }
        i++;
      },
    });
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(15);
    expect(above / 1000).toBeGreaterThan(0.95);
  });

  it('lets a span carry its operation slowdown only when it, or the slowdown, is min_delta_ms', () => {
    const thr = slot(0.3).map((v) => v / 5); // median 20 ms, p95 33 ms
    const mean = 21;
    const slow = 3; // an operation three times slower: 40 ms over the median
    const slight = 1.2; // one about 1.2x slower: 4 ms
    expect(carriesShift(thr, 0, 19, mean, slow, 5)).toBe(false); // faster than the median
    expect(carriesShift(thr, 0, 20.5, mean, slow, 5)).toBe(false); // faster than the mean
    expect(carriesShift(thr, 0, 23, mean, slow, 5)).toBe(true); // 3 ms over, of a large slowdown
    expect(carriesShift(thr, 0, 23, mean, slight, 5)).toBe(false); // 3 ms over, of a 4 ms slowdown
    expect(carriesShift(thr, 0, 26, mean, slight, 5)).toBe(true); // itself 6 ms slower
    // A 1 ms call several times slower is still a few ms: not an incident (min_delta_ms).
    const fast = slot(0.3).map((v) => v / 100);
    expect(carriesShift(fast, 0, 1.03, 1.01, slow, 5)).toBe(false);
  });

  it('bounds a slow operation by its size: never critical, major from 3x, moderate from 1.5x', () => {
    expect(cappedSeverity(1, 100)).toBe(2);
    expect(cappedSeverity(1, 3)).toBe(2);
    expect(cappedSeverity(1, 2.9)).toBe(3);
    expect(cappedSeverity(2, 1.5)).toBe(3);
    expect(cappedSeverity(1, 1.3)).toBe(4);
    expect(cappedSeverity(1, 1.15)).toBe(5);
    expect(cappedSeverity(4, 5)).toBe(4); // no more severe than its rarity
    expect(cappedSeverity(1, 1.05)).toBe(0); // a slowdown that is over: not tagged
  });

  it('measures the size of a slowdown over the last minute of a call made a few times a minute', () => {
    const thr = slot(0.3);
    const state = new LevelState();
    let t = 1_000_000;
    for (let i = 0; i < 20; i++) state.observe(thr, 0, 500, (t += 20_000)); // 5x slower
    expect(state.ratio()).toBeGreaterThan(4.5);
    const after: number[] = [];
    for (let i = 0; i < 3; i++) {
      state.observe(thr, 0, 100, (t += 20_000)); // back to normal
      after.push(state.ratio());
    }
    // Within a minute (three calls) the slowdown is too small to tag; the rarity still remembers.
    expect(cappedSeverity(2, after[2]!)).toBe(0);
    expect(state.value).toBeGreaterThan(1.5);
    // A busy call averages by count: 30 normal spans in a second bring it back.
    for (let i = 0; i < 40; i++) state.observe(thr, 0, 100, (t += 25));
    expect(state.ratio()).toBeLessThan(1.1);
  });
});
