/**
 * Count, mean and M2 (the sum of squared deviations from the mean), updated one value at a time
 * with Welford's method and merged with Chan et al.'s formula, so that a 30-day window is the
 * merge of daily rows and gives the same result as one pass over the data.
 *
 * The hot path keeps many of these in one Float64Array, `[count, mean, m2]` per slot (a key's
 * slots: slots.ts), to allocate nothing per span: `slotMoments`, `countAt`, `meanAt`,
 * `stddevAt`, `addToSlot`, `mergeIntoSlot`.
 */

export interface Moments {
  count: number;
  mean: number;
  m2: number;
}

export const emptyMoments = (): Moments => ({ count: 0, mean: 0, m2: 0 });

// The packed layout: M_STRIDE numbers per slot, read and written only through the functions
// below (small enough for V8 to inline on the per-span path).
export const M_STRIDE = 3;
const M_COUNT = 0;
const M_MEAN = 1;
const M_M2 = 2;

/** Moments for `slots` slots, all empty. */
export function slotMoments(slots: number): Float64Array {
  return new Float64Array(slots * M_STRIDE);
}

/** The number of values in `slot`. */
export function countAt(a: Float64Array, slot: number): number {
  return a[slot * M_STRIDE + M_COUNT]!;
}

/** The mean of `slot`. */
export function meanAt(a: Float64Array, slot: number): number {
  return a[slot * M_STRIDE + M_MEAN]!;
}

/** The sample standard deviation of `slot` (`stddevOf`). */
export function stddevAt(a: Float64Array, slot: number): number {
  const i = slot * M_STRIDE;
  return stddevOf(a[i + M_COUNT]!, a[i + M_M2]!);
}

/** Welford: adds `x` to the moments of `slot`. */
export function addToSlot(a: Float64Array, slot: number, x: number): void {
  addAt(a, slot * M_STRIDE, x);
}

/** Chan: merges moments (count, mean, m2) into those of `slot`. */
export function mergeIntoSlot(
  a: Float64Array,
  slot: number,
  count: number,
  mean: number,
  m2: number,
): void {
  mergeAt(a, slot * M_STRIDE, count, mean, m2);
}

/** Welford: adds `x` to the moments stored from `a[i]` (`i = slot * M_STRIDE`). */
export function addAt(a: Float64Array, i: number, x: number): void {
  const n = a[i + M_COUNT]! + 1;
  const mean = a[i + M_MEAN]!;
  const d = x - mean;
  const next = mean + d / n;
  a[i + M_COUNT] = n;
  a[i + M_MEAN] = next;
  a[i + M_M2] = a[i + M_M2]! + d * (x - next);
}

/** Chan: merges moments (count, mean, m2) into those stored from `a[i]` (`i = slot * M_STRIDE`). */
export function mergeAt(a: Float64Array, i: number, count: number, mean: number, m2: number): void {
  if (count <= 0) return;
  const na = a[i + M_COUNT]!;
  if (na === 0) {
    a[i + M_COUNT] = count;
    a[i + M_MEAN] = mean;
    a[i + M_M2] = m2;
    return;
  }
  const n = na + count;
  const d = mean - a[i + M_MEAN]!;
  a[i + M_COUNT] = n;
  a[i + M_MEAN] = a[i + M_MEAN]! + (d * count) / n;
  a[i + M_M2] = a[i + M_M2]! + m2 + (d * d * na * count) / n;
}

/** Chan, on objects: `into` becomes the merge of `into` and `m`. */
export function merge(into: Moments, m: Moments): Moments {
  if (m.count <= 0) return into;
  if (into.count === 0) {
    into.count = m.count;
    into.mean = m.mean;
    into.m2 = m.m2;
    return into;
  }
  const n = into.count + m.count;
  const d = m.mean - into.mean;
  into.mean += (d * m.count) / n;
  into.m2 += m.m2 + (d * d * into.count * m.count) / n;
  into.count = n;
  return into;
}

export function add(into: Moments, x: number): Moments {
  into.count += 1;
  const d = x - into.mean;
  into.mean += d / into.count;
  into.m2 += d * (x - into.mean);
  return into;
}

/** Sample standard deviation (n - 1), 0 for fewer than two values. */
export function stddevOf(count: number, m2: number): number {
  return count > 1 ? Math.sqrt(Math.max(0, m2) / (count - 1)) : 0;
}
