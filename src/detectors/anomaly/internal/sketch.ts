import { ProtoWriter, readVarintNumber, type Cursor } from '../../../otlp/wire.js';

/**
 * A mergeable quantile sketch with bounded relative error, in the manner of DDSketch: a value x > 0
 * is counted in bin ceil(log_gamma(x)) with gamma = (1 + a) / (1 - a), and a bin reports the value
 * 2 gamma^i / (gamma + 1), within a relative error `a` (1%) of every value it holds. Two sketches
 * merge by adding their bins, so the sketch of a 30-day window is the merge of its daily sketches,
 * exactly as if all values had been added to one.
 *
 * Bins are dense over the range that was used, clamped to a fixed absolute range (1 ns .. 10^11 ms,
 * 2,000-odd bins at most), so no data-dependent collapsing is needed. Durations are in ms.
 */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
const MIN_VALUE = 1e-6;
const MIN_INDEX = Math.ceil(Math.log(MIN_VALUE) / LN_GAMMA);
const MAX_INDEX = Math.ceil(Math.log(1e11) / LN_GAMMA);
const GROW = 32;
const FORMAT_VERSION = 1;

export function binIndex(x: number): number {
  const i = Math.ceil(Math.log(x) / LN_GAMMA);
  return i < MIN_INDEX ? MIN_INDEX : i > MAX_INDEX ? MAX_INDEX : i;
}

function binValue(i: number): number {
  return (2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
}

export class Sketch {
  /** Values counted; `zeroCount` of them were below 1 ns (reported as 0). */
  count = 0;
  zeroCount = 0;
  private bins = new Float64Array(0);
  /** The bin index of `bins[0]`. */
  private offset = 0;

  add(x: number, weight = 1): void {
    this.count += weight;
    if (!(x >= MIN_VALUE)) {
      this.zeroCount += weight;
      return;
    }
    const i = binIndex(x);
    this.ensure(i, i);
    this.bins[i - this.offset]! += weight;
  }

  merge(other: Sketch): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.zeroCount += other.zeroCount;
    const ob = other.bins;
    let lo = -1;
    let hi = -1;
    for (let j = 0; j < ob.length; j++) {
      if (ob[j] !== 0) {
        if (lo < 0) lo = j;
        hi = j;
      }
    }
    if (lo < 0) return;
    this.ensure(other.offset + lo, other.offset + hi);
    const shift = other.offset - this.offset;
    for (let j = lo; j <= hi; j++) this.bins[j + shift]! += ob[j]!;
  }

  /** The q-quantile (0..1) of the values added, within 1%; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.min(1, Math.max(0, q)) * (this.count - 1);
    let seen = this.zeroCount;
    if (seen > rank) return 0;
    const b = this.bins;
    for (let j = 0; j < b.length; j++) {
      seen += b[j]!;
      if (seen > rank) return binValue(j + this.offset);
    }
    return binValue(this.offset + b.length - 1);
  }

  /** Calls `fn(value, count)` for every non-empty bin, smallest values first (zeros excluded). */
  forEachBin(fn: (value: number, count: number) => void): void {
    const b = this.bins;
    for (let j = 0; j < b.length; j++) if (b[j] !== 0) fn(binValue(j + this.offset), b[j]!);
  }

  /** Compact bytes: version, zero count, first bin index, then one varint count per bin. */
  encode(): Uint8Array {
    const b = this.bins;
    let lo = 0;
    let hi = b.length - 1;
    while (lo <= hi && b[lo] === 0) lo++;
    while (hi >= lo && b[hi] === 0) hi--;
    const w = new ProtoWriter(16 + Math.max(0, hi - lo + 1) * 2);
    w.varint(FORMAT_VERSION).varint(this.zeroCount);
    const first = lo <= hi ? this.offset + lo : 0;
    w.varint(first < 0 ? -2 * first - 1 : 2 * first);
    w.varint(Math.max(0, hi - lo + 1));
    for (let j = lo; j <= hi; j++) w.varint(Math.round(b[j]!));
    return w.finish();
  }

  static decode(bytes: Uint8Array): Sketch {
    const c: Cursor = { pos: 0 };
    const end = bytes.length;
    const version = readVarintNumber(bytes, c, end);
    if (version !== FORMAT_VERSION) throw new Error(`unknown sketch format version ${version}`);
    const s = new Sketch();
    s.zeroCount = readVarintNumber(bytes, c, end);
    const z = readVarintNumber(bytes, c, end);
    const first = z % 2 === 1 ? -(z + 1) / 2 : z / 2;
    const n = readVarintNumber(bytes, c, end);
    if (n > MAX_INDEX - MIN_INDEX + 1 || first < MIN_INDEX || first + n - 1 > MAX_INDEX) {
      throw new Error('sketch bins out of range');
    }
    s.count = s.zeroCount;
    if (n > 0) {
      s.offset = first;
      s.bins = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const v = readVarintNumber(bytes, c, end);
        s.bins[j] = v;
        s.count += v;
      }
    }
    if (c.pos !== end) throw new Error('trailing bytes after the sketch');
    return s;
  }

  /** Makes bins lo..hi addressable, growing by a margin to amortise reallocation. */
  private ensure(lo: number, hi: number): void {
    const len = this.bins.length;
    if (len > 0 && lo >= this.offset && hi < this.offset + len) return;
    const newLo = Math.max(MIN_INDEX, len === 0 ? lo - GROW : Math.min(this.offset, lo - GROW));
    const newHi = Math.min(
      MAX_INDEX,
      len === 0 ? hi + GROW : Math.max(this.offset + len - 1, hi + GROW),
    );
    const next = new Float64Array(newHi - newLo + 1);
    if (len > 0) next.set(this.bins, this.offset - newLo);
    this.bins = next;
    this.offset = newLo;
  }
}
