import { THR_P50 } from './thr-layout.js';

/** What a slowdown of an operation (level.ts) means for its spans. */

/**
 * The least slowdown (the level's `ratio()`: its recent spans over their slots' medians) each
 * severity of a slow operation needs, `[sev5 .. sev1]`. A slowdown's rarity says how sure it is;
 * its size says how much it matters: a call 1.3x slower all afternoon is certain and minor. So a
 * slow operation is never critical on its own (SEV1 is for a span that is itself extraordinary),
 * major from 3x (the simulator's 5x steps are SEV2), moderate from 1.5x (its 2x steps are SEV3),
 * minor from 1.25x, low from 1.1x; below that (a slowdown that ended a minute ago), not tagged.
 */
export const LEVEL_MIN_RATIO = [1.1, 1.2, 1.35, 3, Number.POSITIVE_INFINITY] as const;

/**
 * The least slowdown a key tags with borrowed level thresholds (`LevelState.borrowed`): an order
 * of magnitude (as `TENFOLD` in thresholds.ts: an order of magnitude is at least moderate).
 * Borrowed thresholds do not know where the key's own level sits on normal traffic: on real
 * traffic (Nezha) keys that had not counted a level of their own ran 1.3-1.5x slower than their
 * history all day (shared slowness after faults elsewhere), and from 3x on borrowed thresholds
 * still added 0.02-0.03% of negatives at SEV3 on each of the three days; the network delay of a
 * call made once a minute (its spans 78x slower) is tagged all the same.
 */
export const BORROWED_MIN_RATIO = 10;

/**
 * The severity of a slow operation: its rarity `severity` (1..5), no worse than its size allows;
 * 0 when it is too small to tag.
 */
export function cappedSeverity(severity: number, ratio: number): number {
  if (!(ratio >= LEVEL_MIN_RATIO[0])) return 0;
  let allowed = 5;
  while (allowed > 1 && ratio >= LEVEL_MIN_RATIO[6 - allowed]!) allowed--;
  return Math.max(severity, allowed);
}

/**
 * Whether a span carries its operation's slowdown (`ratio`, the level's): it is
 * slower than its baseline (the slot's mean and median: a span faster than the baseline is never
 * tagged for its operation), and either it or the slowdown is at least `minDeltaMs` slower than
 * the median. An operation 5x slower is slower by 4x its median, although some of its spans are
 * no slower than the slow ones of a normal hour; a sub-millisecond call 3x slower is still only a
 * few ms slower and is not tagged.
 */
export function carriesShift(
  thr: Float32Array,
  at: number,
  d: number,
  mean: number,
  ratio: number,
  minDeltaMs: number,
): boolean {
  const p50 = thr[at + THR_P50]!;
  if (!(d > p50) || !(d > mean)) return false;
  return d - p50 >= minDeltaMs || p50 * (ratio - 1) >= minDeltaMs;
}
