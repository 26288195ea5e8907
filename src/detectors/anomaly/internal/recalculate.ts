import { mergeIntoSlot, slotMoments } from './moments.js';
import { Sketch } from './sketch.js';
import {
  HOUR_BASE,
  SLOT_COUNT,
  scopeOfSlot,
  slotsOfBucket,
  windowLabel,
  type Scope,
} from './slots.js';
import type { BaselineStore } from './store/baseline-store.js';
import type { KeyRow, SketchRow } from './store/threshold-store.js';
import type { ThresholdStore } from './store/threshold-store.js';
import { learnKey, tenfoldCount, type SlotThresholds, type TenfoldCount } from './thresholds.js';
import { bucketOfDayHour } from './time-buckets.js';
import { spanKindName } from './anomaly-record.js';
import { boundYoungBucket } from './young-slots.js';
import { SEVERITY_NAMES } from './severity.js';

export interface WindowOptions {
  /** First local day of the window (today - window_days + 1). */
  readonly sinceDay: number;
  /** Only these keys (by id); all keys when undefined. */
  readonly keyIds?: readonly number[] | undefined;
  /** Called between keys, so a long pass does not hold the event loop. */
  readonly pause?: (() => Promise<void>) | undefined;
}

export interface RecalcOptions extends WindowOptions {
  /** `[sev5 .. sev1]` as fractions. */
  readonly percentiles: readonly number[];
  readonly minSamples: number;
  readonly now: number;
  /**
   * At a background refresh, the local (day * 24 + hour) of `now`: a bucket new in it may read as
   * its parent (young-slots.ts).
   */
  readonly current?: number | undefined;
  /** For the window labels of the report. */
  readonly timeZone: string;
  /**
   * Receives each key's window moments, new thresholds and count of spans 10x their median (the
   * running processor installs them).
   */
  readonly onKey?: (
    key: KeyRow,
    window: Float64Array,
    slots: SlotThresholds[],
    tenfold: TenfoldCount,
  ) => void;
}

export interface ThresholdChange {
  readonly service: string;
  readonly operation: string;
  readonly kind: string;
  readonly slot: number;
  readonly scope: Scope;
  readonly window: string;
  readonly samples: number;
  readonly before: Record<string, number> | null;
  readonly after: Record<string, number> | null;
}

export interface RecalcReport {
  readonly computed_at: string;
  readonly duration_ms: number;
  readonly keys: number;
  readonly slots_learned: number;
  readonly slots_fixed: number;
  /** Slots whose thresholds appeared, disappeared or moved by more than 1%. */
  readonly changed: number;
  /** The largest changes first, at most 100. */
  readonly changes: ThresholdChange[];
}

const MAX_CHANGES = 100;

/**
 * Recalculates thresholds from the last window of daily rows: per key, the rows are merged into the
 * 200 slots (moments and sketches) and each slot with `min_samples` gets learned thresholds (or the
 * fixed ones, while its history is too short). The new thresholds replace the old ones key by key,
 * and the `thresholds` generation is bumped so a running sidecar reloads them.
 */
export async function recalculate(store: ThresholdStore, o: RecalcOptions): Promise<RecalcReport> {
  const started = performance.now();
  let learned = 0;
  let fixed = 0;
  const changes: (ThresholdChange & { size: number })[] = [];
  const keys = await selectKeys(store, o.keyIds);
  for (const key of keys) {
    const rows = await store.keyRows(key.id, o.sinceDay);
    const { m, sketches, days } = windowOf(rows);
    const tenfold = tenfoldCount(m, sketches);
    const slots = learnKey(m, sketches, days, o, tenfold);
    const young = o.current === undefined ? undefined : bucketOfDayHour(o.current);
    if (young !== undefined && isNew(rows, o.current!)) {
      const history = windowOf(rows, young);
      const others = learnKey(history.m, history.sketches, history.days, o);
      boundYoungBucket(slots, others, young, sketches[young]!);
    }
    for (const t of slots) {
      if (t.source === 'learned') learned++;
      else fixed++;
    }
    const before = (await store.thresholds(key.id)).get(key.id) ?? [];
    diff(key, before, slots, o.timeZone, changes);
    await store.saveThresholds(key.id, slots);
    o.onKey?.(key, m, slots, tenfold);
    if (o.pause) await o.pause();
  }
  await store.bumpGeneration('thresholds');
  changes.sort((a, b) => b.size - a.size);
  return {
    computed_at: new Date(o.now).toISOString(),
    duration_ms: Math.round(performance.now() - started),
    keys: keys.length,
    slots_learned: learned,
    slots_fixed: fixed,
    changed: changes.length,
    changes: changes.slice(0, MAX_CHANGES).map(({ size: _size, ...c }) => c),
  };
}

/**
 * A key's daily rows merged into the 200 slots (moments and sketches), and each dow_hour bucket's
 * daily sketches; without the rows of bucket `skip` when given.
 */
function windowOf(rows: readonly SketchRow[], skip?: number) {
  const m = slotMoments(SLOT_COUNT);
  const sketches: (Sketch | undefined)[] = new Array<Sketch | undefined>(SLOT_COUNT);
  // Each dow_hour bucket's daily rows, one per week of the window.
  const days: Sketch[][] = Array.from({ length: HOUR_BASE }, () => []);
  for (const row of rows) {
    const bucket = bucketOfDayHour(row.day * 24 + row.hour);
    if (bucket === skip) continue;
    const s = Sketch.decode(row.sketch);
    days[bucket]!.push(s);
    for (const slot of slotsOfBucket(bucket)) {
      mergeIntoSlot(m, slot, row.count, row.mean, row.m2);
      (sketches[slot] ??= new Sketch()).merge(s);
    }
  }
  return { m, sketches, days };
}

/** Whether the only daily row of `dayHour`'s bucket is that hour's own (a bucket new this week). */
function isNew(rows: readonly SketchRow[], dayHour: number): boolean {
  const bucket = bucketOfDayHour(dayHour);
  let own = 0;
  for (const row of rows) {
    const at = row.day * 24 + row.hour;
    if (bucketOfDayHour(at) !== bucket) continue;
    if (at !== dayHour) return false;
    own++;
  }
  return own === 1;
}

/** Rebuilds each key's window moments from the daily rows (no sketches read, nothing written). */
export async function rebuildMoments(
  store: BaselineStore,
  o: WindowOptions & { onKey: (key: KeyRow, window: Float64Array) => void },
): Promise<number> {
  const keys = await selectKeys(store, o.keyIds);
  for (const key of keys) {
    const m = slotMoments(SLOT_COUNT);
    for (const row of store.momentRows(o.sinceDay, key.id)) {
      for (const slot of slotsOfBucket(bucketOfDayHour(row.day * 24 + row.hour))) {
        mergeIntoSlot(m, slot, row.count, row.mean, row.m2);
      }
    }
    o.onKey(key, m);
    if (o.pause) await o.pause();
  }
  return keys.length;
}

async function selectKeys(
  store: ThresholdStore,
  ids: readonly number[] | undefined,
): Promise<KeyRow[]> {
  const all = await store.keys();
  if (ids === undefined) return all;
  const wanted = new Set(ids);
  return all.filter((k) => wanted.has(k.id));
}

function diff(
  key: KeyRow,
  before: readonly SlotThresholds[],
  after: readonly SlotThresholds[],
  timeZone: string,
  out: (ThresholdChange & { size: number })[],
): void {
  const old = new Map(before.map((t) => [t.slot, t]));
  const seen = new Set<number>();
  const push = (slot: number, a: SlotThresholds | undefined, b: SlotThresholds | undefined) => {
    const za = a?.z ?? null;
    const zb = b?.z ?? null;
    let size = 0;
    if ((za === null) !== (zb === null)) size = Number.POSITIVE_INFINITY;
    else if (za && zb) for (let k = 0; k < 5; k++) size = Math.max(size, relative(za[k]!, zb[k]!));
    if (size <= 0.01) return;
    out.push({
      service: key.service,
      operation: key.operation,
      kind: spanKindName(key.kind),
      slot,
      scope: scopeOfSlot(slot),
      window: windowLabel(slot, timeZone),
      samples: b?.samples ?? 0,
      before: named(za),
      after: named(zb),
      size,
    });
  };
  for (const t of after) {
    seen.add(t.slot);
    push(t.slot, old.get(t.slot), t);
  }
  for (const t of before) if (!seen.has(t.slot)) push(t.slot, t, undefined);
}

function relative(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), 1e-9);
}

/** `[sev5 .. sev1]` as `{ SEV5: 2.1, ..., SEV1: 6.3 }`. */
export function named(z: readonly number[] | null): Record<string, number> | null {
  if (!z) return null;
  const out: Record<string, number> = {};
  for (let k = 0; k < 5; k++) out[SEVERITY_NAMES[4 - k]!] = Math.round(z[k]! * 1000) / 1000;
  return out;
}
