/**
 * Count, mean and M2 (the sum of squared deviations from the mean), updated one value at a time
 * with Welford's method and merged with Chan et al.'s formula, so that a 30-day window is the
 * merge of daily rows and gives the same result as one pass over the data.
 *
 * The hot path keeps many of these in one Float64Array, three numbers per slot
 * (`[count, mean, m2]` at `3 * slot`), to allocate nothing per span.
 */

export interface Moments {
  count: number;
  mean: number;
  m2: number;
}

export const emptyMoments = (): Moments => ({ count: 0, mean: 0, m2: 0 });

/** Welford: adds `x` to the moments stored at `a[i..i+2]`. */
export function addAt(a: Float64Array, i: number, x: number): void {
  const n = a[i]! + 1;
  const mean = a[i + 1]!;
  const d = x - mean;
  const next = mean + d / n;
  a[i] = n;
  a[i + 1] = next;
  a[i + 2] = a[i + 2]! + d * (x - next);
}

/** Chan: merges moments (count, mean, m2) into those stored at `a[i..i+2]`. */
export function mergeAt(a: Float64Array, i: number, count: number, mean: number, m2: number): void {
  if (count <= 0) return;
  const na = a[i]!;
  if (na === 0) {
    a[i] = count;
    a[i + 1] = mean;
    a[i + 2] = m2;
    return;
  }
  const n = na + count;
  const d = mean - a[i + 1]!;
  a[i] = n;
  a[i + 1] = a[i + 1]! + (d * count) / n;
  a[i + 2] = a[i + 2]! + m2 + (d * d * na * count) / n;
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
