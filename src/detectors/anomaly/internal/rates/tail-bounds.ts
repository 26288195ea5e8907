/**
 * How unlikely a count is, as Chernoff bounds: cheap (a few logarithms), valid for any rate, and
 * conservative (they overstate the probability, so a severity read from them errs on the side of
 * silence). Each returns the exponent `-ln P`: 6.9 is "at most 1 in 1,000".
 */

/** x ln(x / y), 0 at x = 0. */
function xlog(x: number, y: number): number {
  return x > 0 ? x * Math.log(x / y) : 0;
}

/**
 * `-ln P(X >= k)` bound for X binomial(n, p), k/n > p: n times the Kullback-Leibler divergence of
 * k/n from p. 0 when k/n <= p.
 */
export function binomialUpper(k: number, n: number, p: number): number {
  if (!(n > 0) || !(k > n * p)) return 0;
  const q = Math.min(1, k / n);
  if (p <= 0) return Number.POSITIVE_INFINITY;
  if (p >= 1) return 0;
  return n * (xlog(q, p) + xlog(1 - q, 1 - p));
}

/** `-ln P(X >= k)` (k > mu) or `-ln P(X <= k)` (k < mu) bound for X Poisson(mu); 0 otherwise. */
export function poissonTail(k: number, mu: number): number {
  if (!(mu > 0)) return k > 0 ? Number.POSITIVE_INFINITY : 0;
  return Math.max(0, xlog(k, mu) - k + mu);
}

/**
 * The severity (1..5, 0: none) whose rarity `exponent` reaches: `exponents[0]` is SEV5's
 * `-ln(rate)` (4.6 for 1%), `exponents[4]` SEV1's.
 */
export function severityOfExponent(exponent: number, exponents: ArrayLike<number>): number {
  if (!(exponent >= exponents[0]!)) return 0;
  let sev = 5;
  for (let k = 1; k < 5 && exponent >= exponents[k]!; k++) sev--;
  return sev;
}

/** The severity whose size floor `ratio` reaches (`floors[0]` SEV5's .. `floors[4]` SEV1's). */
export function severityOfSize(ratio: number, floors: ArrayLike<number>): number {
  return severityOfExponent(ratio, floors);
}

/**
 * The smallest count k >= `min` with `poissonTail(k, mu) / phi >= exponent` and k >= mu: the
 * count at which a window of expected count `mu` (variance `phi * mu`) is that rare upwards.
 */
export function upperCount(mu: number, phi: number, exponent: number, min: number): number {
  let lo = Math.max(min, mu);
  if (poissonTail(lo, mu) / phi >= exponent) return lo;
  let hi = Math.max(lo * 2, lo + 10);
  while (poissonTail(hi, mu) / phi < exponent) hi *= 2;
  for (let i = 0; i < 40 && hi - lo > 0.5; i++) {
    const mid = (lo + hi) / 2;
    if (poissonTail(mid, mu) / phi >= exponent) hi = mid;
    else lo = mid;
  }
  return hi;
}
