import { type Moments, addToSlot, countAt, mergeIntoSlot, slotMoments } from './moments.js';
import { LevelState } from './level.js';
import type { SlowRun } from './slow-run.js';
import type { RateState } from './rates/rate-state.js';
import { THR_P50, THR_P95, THR_P99, THR_SEV5, THR_SEVERITIES, THR_STRIDE } from './thr-layout.js';
import { Sketch } from './sketch.js';
import { DOW_BASE, GLOBAL_SLOT, HOUR_BASE, SLOT_COUNT, slotsOfBucket } from './slots.js';
import { bucketOfDayHour } from './time-buckets.js';
import {
  SEV3,
  TENFOLD,
  tenfoldCap,
  tenfoldRareIn,
  thresholdDurations,
  type SlotThresholds,
  type TenfoldCount,
} from './thresholds.js';

/** A key's 10x count as it learns (`KeyState.tenfold`), and whether its thresholds carry the cap. */
export interface TenfoldState {
  beyond: number;
  total: number;
  capped: boolean;
}

/** Learning not yet written to SQLite: one (local day, hour) row of one key. */
export interface PendingRow {
  readonly dayHour: number;
  readonly m: Moments;
  readonly sketch: Sketch;
}

// Every key starts without thresholds and shares this all-NaN array until it has some (it is
// never written: `setThresholds` installs a new array). Float32 halves the memory of a key.
const NO_THRESHOLDS = new Float32Array(SLOT_COUNT * THR_STRIDE).fill(Number.NaN);

/**
 * The hot state of one key (service, span name, span kind): the window's moments for its 200
 * slots (see slots.ts), the thresholds learned for them, its recent level (level.ts), and the
 * learning of the current flush interval as daily rows with sketches. Nothing here touches the
 * database. About 14 KB a key.
 */
export class KeyState {
  /** Row id in the `keys` table, once the key has been flushed. */
  id: number | undefined;
  /** `[count, mean, m2]` per slot. */
  m: Float64Array = slotMoments(SLOT_COUNT);
  /** THR_STRIDE numbers per slot; NaN: no learned thresholds (the fixed ones apply). */
  thr: Float32Array = NO_THRESHOLDS;
  pending: PendingRow[] = [];
  /** The flush interval (`KeyLimit.epoch`) the key was last seen in. */
  seen = 0;
  /** Global sample count when thresholds were last computed for this key. */
  refreshedAt = 0;
  /** The recent level of the key's spans (sustained slowdowns). */
  readonly level = new LevelState();
  /** Its last spans beyond their slots' p95 (slow-run.ts); made at its first such span. */
  run: SlowRun | undefined;
  /** Its error share and traffic (rates/), once the error or traffic detector has seen it. */
  rates: RateState | undefined;
  /**
   * Its spans at least TENFOLD x their bucket's median, of all it learned (thresholds.ts): counted
   * at its last recalculation, then as it learns, so that the 10x rule reads the history the key
   * has now and not the one it had then (`capped`: its thresholds carry the rule's cap). Written
   * with its level (level-saves.ts) and taken up at a restart. Unknown (undefined) until its first
   * recalculation on a database that has none stored, and in a fleet (whose counts are the
   * fleet's): the thresholds' reading.
   */
  tenfold: TenfoldState | undefined;
  /** `tenfold.total` when it was last written to the store (-1: not since it was set). */
  tenfoldSaved = -1;
  /**
   * `tenfold` as it was when the key's pending rows were last written (or dropped), or as a
   * recalculation read it from the store: `tenfold` minus this is what its pending rows add.
   */
  private tenfoldStored: { beyond: number; total: number } | undefined;

  constructor(
    readonly service: string,
    readonly operation: string,
    readonly kind: number,
  ) {}

  /** Adds one duration to the four slots of dow_hour `bucket` and to the pending daily row. */
  learn(dayHour: number, bucket: number, x: number): void {
    const m = this.m;
    const dow = (bucket / 24) | 0;
    addToSlot(m, bucket, x);
    addToSlot(m, HOUR_BASE + bucket - dow * 24, x);
    addToSlot(m, DOW_BASE + dow, x);
    addToSlot(m, GLOBAL_SLOT, x);
    const pending = this.pending;
    let row: PendingRow | undefined;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i]!.dayHour === dayHour) {
        row = pending[i];
        break;
      }
    }
    if (!row) {
      row = { dayHour, m: { count: 0, mean: 0, m2: 0 }, sketch: new Sketch() };
      pending.push(row);
    }
    const r = row.m;
    r.count += 1;
    const d = x - r.mean;
    r.mean += d / r.count;
    r.m2 += d * (x - r.mean);
    row.sketch.add(x);
    const t = this.tenfold;
    if (t !== undefined) {
      t.total++;
      if (x >= TENFOLD * this.median(bucket, dow)) t.beyond++;
      else if (!t.capped && this.tenfoldRare()) this.capTenfold();
    }
  }

  /**
   * Its history now shows 10x spans rarely, though it did not when its thresholds were computed:
   * each learned slot's SEV3 (SEV4, SEV5) starts at 10x its median at the latest, as `learnKey`
   * caps them (in memory; the stored thresholds are the recalculation's, until the next one).
   */
  private capTenfold(): void {
    this.tenfold!.capped = true;
    const thr = this.thr;
    if (thr === NO_THRESHOLDS) return;
    for (let at = 0; at < thr.length; at += THR_STRIDE) {
      const p50 = thr[at + THR_P50]!;
      if (Number.isNaN(thr[at + THR_SEV5]!) || !(p50 > 0)) continue;
      for (let k = 0; k <= SEV3; k++) {
        thr[at + THR_SEV5 + k] = Math.min(thr[at + THR_SEV5 + k]!, tenfoldCap(p50, k));
      }
    }
  }

  /**
   * The median its thresholds give dow_hour `bucket`: its own, else its hour of day's, its day's,
   * the key's (NaN: none yet).
   */
  private median(bucket: number, dow: number): number {
    const thr = this.thr;
    let p50 = thr[bucket * THR_STRIDE + THR_P50]!;
    if (Number.isNaN(p50)) p50 = thr[(HOUR_BASE + bucket - dow * 24) * THR_STRIDE + THR_P50]!;
    if (Number.isNaN(p50)) p50 = thr[(DOW_BASE + dow) * THR_STRIDE + THR_P50]!;
    if (Number.isNaN(p50)) p50 = thr[GLOBAL_SLOT * THR_STRIDE + THR_P50]!;
    return p50;
  }

  /**
   * Installs the 10x count of a recalculation (`tenfoldCount` over the window it read), with the
   * spans learned since the pending rows were last written, as `replaceMoments` adds them: a
   * background refresh yields to traffic between keys, so a key may learn after the refresh's
   * flush and before its turn (its count lost them).
   */
  setTenfold(c: TenfoldCount): void {
    const t = this.tenfold;
    const stored = this.tenfoldStored;
    const beyond = t && stored ? t.beyond - stored.beyond : 0;
    const total = t && stored ? t.total - stored.total : 0;
    this.tenfold = { beyond: c.beyond + beyond, total: c.total + total, capped: false };
    this.tenfoldStored = { beyond: c.beyond, total: c.total };
    this.tenfoldSaved = -1;
  }

  /** Its pending rows were written to the store (or dropped): none of its count is pending. */
  clearPending(): void {
    this.pending = [];
    const t = this.tenfold;
    this.tenfoldStored = t && { beyond: t.beyond, total: t.total };
  }

  /**
   * Takes up the count as the store kept it (after the thresholds were read back): a key capped
   * then is capped again, as it was in memory.
   */
  restoreTenfold(t: TenfoldState): void {
    this.tenfold = { ...t };
    this.tenfoldStored = { beyond: t.beyond, total: t.total };
    this.tenfoldSaved = t.total;
    if (t.capped) this.capTenfold();
  }

  /** Whether its 10x count changed since it was last written to the store. */
  get tenfoldUnsaved(): boolean {
    return this.tenfold !== undefined && this.tenfold.total !== this.tenfoldSaved;
  }

  /** Whether spans 10x their median are rare in the history it has now (`tenfoldRareIn`). */
  tenfoldRare(): boolean {
    return this.tenfold !== undefined && tenfoldRareIn(this.tenfold, this.count());
  }

  /**
   * The slot that serves dow_hour `bucket`: the bucket itself, else its hour of day, else its day
   * of week, else global, each only with `minSamples`; -1 while none has enough. A slot that has
   * reached `minSamples` since the last recalculation (it has no percentiles yet, so it would be
   * judged by the fixed cold-start thresholds) gives way to a coarser level that has learned ones.
   */
  servingSlot(bucket: number, minSamples: number): number {
    // The common case, on every span: the bucket itself, recalculated.
    if (countAt(this.m, bucket) >= minSamples) {
      const p50 = this.thr[bucket * THR_STRIDE + THR_P50]!;
      if (!Number.isNaN(p50)) return bucket;
    }
    return this.fallbackSlot(bucket, minSamples);
  }

  private fallbackSlot(bucket: number, minSamples: number): number {
    const m = this.m;
    const thr = this.thr;
    const dow = (bucket / 24) | 0;
    let first = -1;
    // bucket, its hour of day, its day of week, global (unrolled: this runs on every span of a key
    // until its first recalculation, and an array per span showed in the profiles).
    for (let level = 0; level < 4; level++) {
      const slot =
        level === 0
          ? bucket
          : level === 1
            ? HOUR_BASE + bucket - dow * 24
            : level === 2
              ? DOW_BASE + dow
              : GLOBAL_SLOT;
      if (countAt(m, slot) < minSamples) continue;
      if (first < 0) first = slot;
      const at = slot * THR_STRIDE;
      if (!Number.isNaN(thr[at + THR_P50]!)) {
        // Recalculated: learned thresholds, or the fixed ones while the key has no shape yet.
        return first === slot || !Number.isNaN(thr[at + THR_SEV5]!) ? slot : first;
      }
    }
    return first;
  }

  count(slot = GLOBAL_SLOT): number {
    return countAt(this.m, slot);
  }

  /** Replaces the window's moments (from SQLite) and adds the learning not yet flushed. */
  replaceMoments(window: Float64Array): void {
    for (const row of this.pending) {
      for (const slot of slotsOfBucket(bucketOfDayHour(row.dayHour))) {
        mergeIntoSlot(window, slot, row.m.count, row.m.mean, row.m.m2);
      }
    }
    this.m = window;
  }

  /**
   * Whether a slot that serves dow_hour `bucket` has `minSamples` but no percentiles yet, though
   * the key grew since they were last computed: a bucket that filled since (a new hour of a new
   * install) is computed at the next flush, not at the next night.
   */
  lacksThresholds(bucket: number, minSamples: number): boolean {
    if (this.count() <= this.refreshedAt) return false;
    for (const slot of slotsOfBucket(bucket)) {
      if (
        countAt(this.m, slot) >= minSamples &&
        Number.isNaN(this.thr[slot * THR_STRIDE + THR_P50]!)
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * Installs thresholds computed by a recalculation (slots not listed get none). None at all (a
   * key loaded from a database no recalculation has run on: a backfill) leaves the key to be
   * computed at the next flush.
   */
  setThresholds(slots: readonly SlotThresholds[]): void {
    if (slots.length === 0) {
      this.thr = NO_THRESHOLDS;
      this.refreshedAt = 0;
      return;
    }
    const thr = new Float32Array(SLOT_COUNT * THR_STRIDE).fill(Number.NaN);
    for (const t of slots) {
      const at = t.slot * THR_STRIDE;
      const ms = thresholdDurations(t);
      if (ms) for (let k = 0; k < THR_SEVERITIES; k++) thr[at + THR_SEV5 + k] = ms[k]!;
      thr[at + THR_P99] = t.p99;
      thr[at + THR_P50] = t.p50;
      thr[at + THR_P95] = t.p95;
    }
    this.thr = thr;
    // Thresholds of a recalculation carry the cap as they read it; the count is read again on them.
    if (this.tenfold !== undefined) this.tenfold.capped = false;
    // The key's spans when they were computed (the whole week's slot counts them all): thresholds
    // read from the store at a restart are as old as they are, and are refreshed as they would
    // have been without it.
    const all = slots.find((t) => t.slot === GLOBAL_SLOT);
    this.refreshedAt = all ? Math.min(all.samples, this.count()) : this.count();
  }
}
