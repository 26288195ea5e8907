import { LEVEL_BINS, type LevelSnapshot } from './level.js';
import { RUN_MAX, RUN_STATE } from './slow-run.js';

/** A key's slowdown state as stored: its level, and its run of slow spans (slow-run.ts) if any. */
export type StoredSlowdown = LevelSnapshot & { readonly run: readonly number[] | undefined };

/**
 * A key's level (level.ts) as the store keeps it, one blob: a header (format, number of
 * thresholds, the histogram's first non-empty bin and how many bins follow), the live state and
 * counts as float64 (the level, the size, the last span's time, the time between spans, the
 * spans counted, the first counted one's time, the spans since the last counted one), the key's
 * run of slow spans (slow-run.ts) when it has one, the thresholds, then the histogram's bins from its first non-empty one to its
 * last as float32 (about 1 KB for a typical key, 2.4 KB at most). `decodeLevel` checks every part:
 * a blob of another format or length, or with a value out of range, is not read.
 */
const FORMAT = 1;
const HEADER = 8;
const FIELDS = 7;

export function encodeLevel(s: LevelSnapshot, run?: readonly number[]): Uint8Array {
  const h = s.histogram;
  let lo = 0;
  let hi = -1;
  if (h) {
    while (lo < h.length && h[lo] === 0) lo++;
    hi = h.length - 1;
    while (hi >= lo && h[hi] === 0) hi--;
  }
  const bins = hi - lo + 1;
  const thr = s.thresholds ?? new Float64Array(0);
  const numbers = [s.value, s.logRatio, s.last, s.gap, s.samples, s.firstCounted, s.tick];
  numbers.push(...thr, ...(run ?? []));
  const bytes = new Uint8Array(HEADER + 8 * numbers.length + 4 * Math.max(bins, 0));
  const v = new DataView(bytes.buffer);
  v.setUint8(0, FORMAT);
  v.setUint8(1, thr.length);
  // No histogram (nothing counted) is written as lo = 0xffff.
  v.setUint16(2, h ? lo : 0xffff, true);
  v.setUint16(4, Math.max(bins, 0), true);
  v.setUint8(6, run ? 1 : 0);
  let at = HEADER;
  for (const x of numbers) {
    v.setFloat64(at, x, true);
    at += 8;
  }
  for (let i = 0; i < bins; i++) {
    v.setFloat32(at, h![lo + i]!, true);
    at += 4;
  }
  return bytes;
}

/** The level stored in `bytes`; undefined when they are not a level of this format. */
export function decodeLevel(bytes: Uint8Array): StoredSlowdown | undefined {
  if (bytes.length < HEADER + 8 * FIELDS) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nThr = v.getUint8(1);
  const lo = v.getUint16(2, true);
  const bins = v.getUint16(4, true);
  const nRun = v.getUint8(6) === 1 ? RUN_STATE : 0;
  const numbers = FIELDS + nThr + nRun;
  const counted = lo !== 0xffff;
  if (
    v.getUint8(0) !== FORMAT ||
    (nThr !== 0 && nThr !== 5) ||
    v.getUint8(6) > 1 ||
    bytes.length !== HEADER + 8 * numbers + 4 * bins ||
    (counted ? lo + bins > LEVEL_BINS : bins !== 0)
  ) {
    return undefined;
  }
  const f: number[] = [];
  for (let at = HEADER; at < HEADER + 8 * numbers; at += 8) f.push(v.getFloat64(at, true));
  if (!f.every(Number.isFinite)) return undefined;
  const [value, logRatio, last, gap, samples, firstCounted, tick] = f as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (value < 0 || value > 3 || last < 0 || gap < 0 || samples < 0 || firstCounted < 0) {
    return undefined;
  }
  if (!Number.isInteger(tick) || tick < 0 || tick > 3) return undefined;
  const run = nRun === 0 ? undefined : f.slice(FIELDS + nThr);
  if (run && !validRun(run)) return undefined;
  let histogram: Float32Array | undefined;
  if (counted) {
    histogram = new Float32Array(LEVEL_BINS);
    let at = HEADER + 8 * numbers;
    for (let i = 0; i < bins; i++, at += 4) {
      const x = v.getFloat32(at, true);
      if (!(x >= 0) || x === Number.POSITIVE_INFINITY) return undefined;
      histogram[lo + i] = x;
    }
  }
  return {
    value,
    logRatio,
    last,
    gap,
    samples,
    firstCounted,
    tick,
    thresholds: nThr === 0 ? undefined : Float64Array.from(f.slice(FIELDS, FIELDS + nThr)),
    histogram,
    run,
  };
}

/** A run's length is 0..RUN_MAX, its tail rates within (0, 1], its ratios positive. */
function validRun(run: readonly number[]): boolean {
  const n = run[0]!;
  if (!Number.isInteger(n) || n < 0 || n > RUN_MAX || run[1]! < 0) return false;
  for (let i = 0; i < n; i++) {
    const rate = run[2 + i]!;
    if (!(rate > 0 && rate <= 1) || !(run[2 + RUN_MAX + i]! > 0)) return false;
  }
  return true;
}
