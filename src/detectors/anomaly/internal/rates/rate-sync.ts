import type { BaselineModel } from '../baseline-model.js';
import type { KeyState } from '../key-state.js';
import type { BaselineStore } from '../store/baseline-store.js';
import type { RateStore } from '../store/rate-store.js';
import { R_STRIDE, RATE_BUCKETS, RateState } from './rate-state.js';

/** What a write of pending rate rows did, to apply once its transaction has committed. */
export interface RateWrite {
  readonly assigned: [KeyState, number][];
  readonly written: KeyState[];
}

/**
 * Merges every key's pending rate rows into the store (inside the flush's transaction, after the
 * latency rows: `assigned` are the ids that write gave). A key with rate rows only (its spans all
 * failed, so none was learned for latency) gets its id here.
 */
export function writeRatePending(
  rates: RateStore,
  b: BaselineStore,
  model: BaselineModel,
  assigned: readonly [KeyState, number][],
): RateWrite {
  const given = new Map(assigned);
  const out: RateWrite = { assigned: [], written: [] };
  for (const key of model.keys()) {
    const r = key.rates;
    if (r === undefined || r.pending.length === 0) continue;
    let id = key.id ?? given.get(key);
    if (id === undefined) {
      id = b.ensureKey(key.service, key.operation, key.kind);
      out.assigned.push([key, id]);
    }
    for (const row of r.pending) rates.merge(id, row.dayHour, row.v);
    out.written.push(key);
  }
  return out;
}

/** After the commit. */
export function ratesWritten(model: BaselineModel, w: RateWrite): void {
  for (const [key, id] of w.assigned) model.setId(key, id);
  for (const key of w.written) key.rates!.pending = [];
}

/** Replaces every stored key's rate window with the database's (at start and each daily roll). */
export function loadRates(
  rates: RateStore,
  model: BaselineModel,
  sinceDay: number,
  bucketOf: (dayHour: number) => number,
): void {
  const windows = rates.window(sinceDay, bucketOf);
  for (const key of model.keys()) {
    if (key.id === undefined) continue;
    const w = windows.get(key.id);
    if (w === undefined && key.rates === undefined) continue;
    const r = (key.rates ??= new RateState());
    r.replaceStats(w ?? new Float64Array(RATE_BUCKETS * R_STRIDE), bucketOf);
  }
}
