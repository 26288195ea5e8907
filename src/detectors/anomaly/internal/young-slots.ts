import type { Sketch } from './sketch.js';
import { DOW_BASE, GLOBAL_SLOT, HOUR_BASE } from './slots.js';
import {
  effectiveStddev,
  LEARN_MIN,
  thresholdDurations,
  type SlotThresholds,
} from './thresholds.js';

/** Index of SEV3 in `[sev5 .. sev1]`. */
const SEV3 = 2;
/**
 * A new bucket's spans beyond its parent's SEV3: at least this many, and this share of them (SEV3
 * fires on 0.05% of a slot's spans). An hour merely slower than its parent (real days run 1.3-1.5x
 * slower than each other) puts well under 2% of its spans there; a fault under way tens of percent
 * (a CPU fault's throttled calls: 40% of one call's spans at 20x its median).
 */
const BEYOND_MIN = 3;
const BEYOND_SHARE = 0.02;

/**
 * A dow_hour bucket seen for the first time, while its hour is under way (a background refresh;
 * its only daily row is the current hour's), reads no higher than its parent, when the parent puts
 * BEYOND_SHARE of its spans beyond SEV3 (40 times SEV3's rate): each of its percentiles and thresholds is
 * the lower of its own reading and the parent's. The parent is the most specific coarser slot (its
 * hour of day, its day, the key) with LEARN_MIN spans in `history`: the thresholds of the same
 * window without the bucket's spans (a coarser slot made of them would judge them by themselves).
 *
 * A fault under way when an hour begins (or when the process starts) is otherwise learned as the
 * hour's normal from its own first spans, within seconds on a busy call, and never tagged. Its
 * spans are judged as the parent judges them for the rest of the hour (the next background refresh
 * after it reads the bucket as it is). An hour that really is slower than its parent (a rush hour)
 * is learned from its second week on. Returns whether the bucket was bounded.
 */
export function boundYoungBucket(
  slots: SlotThresholds[],
  history: readonly SlotThresholds[],
  bucket: number,
  sketch: Sketch,
): boolean {
  const at = slots.findIndex((t) => t.slot === bucket);
  const own = slots[at];
  const ownMs = own && thresholdDurations(own);
  if (!own || !ownMs) return false;
  const dow = Math.floor(bucket / 24);
  let parent: SlotThresholds | undefined;
  for (const slot of [HOUR_BASE + bucket - dow * 24, DOW_BASE + dow, GLOBAL_SLOT]) {
    parent = history.find((t) => t.slot === slot && t.samples >= LEARN_MIN);
    if (parent) break;
  }
  const parentMs = parent && thresholdDurations(parent);
  if (!parent || !parentMs) return false;
  const limit = parentMs[SEV3]!;
  let beyond = 0;
  sketch.forEachBin((value, c) => {
    if (value >= limit) beyond += c;
  });
  if (beyond < BEYOND_MIN || beyond < BEYOND_SHARE * sketch.count) return false;
  const sd = effectiveStddev(own.mean, own.stddev);
  slots[at] = {
    ...own,
    p50: Math.min(own.p50, parent.p50),
    p95: Math.min(own.p95, parent.p95),
    p99: Math.min(own.p99, parent.p99),
    z: ownMs.map((x, k) => (Math.min(x, parentMs[k]!) - own.mean) / sd),
  };
  return true;
}
