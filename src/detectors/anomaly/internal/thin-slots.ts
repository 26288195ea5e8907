import { countAt } from './moments.js';
import { DOW_BASE, GLOBAL_SLOT, HOUR_BASE } from './slots.js';

/** What a recalculation reads of one slot: its percentiles and where SEV5..SEV1 start (ms). */
export interface SlotReading {
  p50: number;
  p95: number;
  p99: number;
  /** `[sev5 .. sev1]` in ms; null while the key has no shape (the fixed thresholds apply). */
  readonly ms: number[] | null;
}

/**
 * The slot whose reading bounds a thin one's: the most specific coarser slot (its hour of day,
 * its day, all of the key's history) that holds `enough` spans; undefined when none does.
 */
export function parentSlot(m: Float64Array, slot: number, enough: number): number | undefined {
  if (slot === GLOBAL_SLOT) return undefined;
  if (slot < HOUR_BASE) {
    const dow = Math.floor(slot / 24);
    if (countAt(m, HOUR_BASE + slot - dow * 24) >= enough) return HOUR_BASE + slot - dow * 24;
    if (countAt(m, DOW_BASE + dow) >= enough) return DOW_BASE + dow;
  }
  return countAt(m, GLOBAL_SLOT) >= enough ? GLOBAL_SLOT : undefined;
}

/**
 * A slot read from fewer than `enough` spans is read no lower than its parent (`parentSlot`):
 * each of its percentiles and thresholds is the higher of its own reading and its parent's. Its
 * first spans (a new hour's first minute, often all from one state of the system: 30 spans in a
 * few seconds) say little about its hour; where they read lower than the coarser slot, that is
 * as likely their chance as the hour's nature, and a span between the two readings is no
 * evidence of a slowdown. Where they read higher, they stand (a quiet hour slower than the
 * day). Slots with `enough` spans are left as read.
 */
export function boundThinSlots(
  m: Float64Array,
  readings: readonly (SlotReading | undefined)[],
  enough: number,
): void {
  readings.forEach((own, slot) => {
    if (!own || countAt(m, slot) >= enough) return;
    const parent = parentSlot(m, slot, enough);
    const p = parent === undefined ? undefined : readings[parent];
    if (!p) return;
    own.p50 = Math.max(own.p50, p.p50);
    own.p95 = Math.max(own.p95, p.p95);
    own.p99 = Math.max(own.p99, p.p99);
    if (own.ms && p.ms)
      for (let k = 0; k < own.ms.length; k++) own.ms[k] = Math.max(own.ms[k]!, p.ms[k]!);
  });
}
