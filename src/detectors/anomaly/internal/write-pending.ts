import type { BaselineModel } from './baseline-model.js';
import type { KeyState } from './key-state.js';
import type { BaselineStore } from './store/baseline-store.js';

/** What a write of pending rows did, to apply once its transaction has committed. */
export interface PendingWrite {
  /** Keys that got a database id in this transaction. */
  readonly assigned: [KeyState, number][];
  /** Keys whose pending rows were written. */
  readonly written: KeyState[];
}

/**
 * Merges every key's pending daily rows into the store (call inside a transaction). Nothing in
 * memory changes here: if the transaction rolls back, the same rows are written next time.
 */
export function writePending(b: BaselineStore, model: BaselineModel): PendingWrite {
  const assigned: [KeyState, number][] = [];
  const written: KeyState[] = [];
  for (const key of model.keys()) {
    if (key.pending.length === 0) continue;
    const id = key.id ?? b.ensureKey(key.service, key.operation, key.kind);
    if (key.id === undefined) assigned.push([key, id]);
    for (const row of key.pending) b.mergeRow(id, row.dayHour, row.m, row.sketch);
    written.push(key);
  }
  return { assigned, written };
}

/** After the commit: ids are known and the written rows are no longer pending. */
export function pendingWritten(model: BaselineModel, w: PendingWrite): void {
  for (const [key, id] of w.assigned) model.setId(key, id);
  for (const key of w.written) key.clearPending();
}

/**
 * Deletes the stored rows of keys evicted to make room (call inside the flush's transaction, before
 * `writePending`, so a key of the same name created since gets a row of its own). A key back in
 * memory under the same id since (a reload) keeps its rows.
 */
export function deleteEvicted(b: BaselineStore, model: BaselineModel): void {
  b.deleteKeys(model.evictedIds.filter((id) => model.withId(id) === undefined));
}
