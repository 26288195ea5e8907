import type { SlotThresholds } from '../thresholds.js';
import type { KeyRow, SketchRow } from './baseline-store.js';

export type Awaitable<T> = T | Promise<T>;

/**
 * What a recalculation reads and writes, in front of either store: the embedded SQLite file
 * (`BaselineStore`, answering at once) or the fleet's PostgreSQL database (`PgStore`, whose rows are
 * every instance's merged). Each write is its own transaction.
 */
export interface ThresholdStore {
  keys(): Awaitable<KeyRow[]>;
  /** One key's daily rows with sketches from local day `sinceDay` on (one row per day and hour). */
  keyRows(keyId: number, sinceDay: number): Awaitable<SketchRow[]>;
  thresholds(keyId?: number): Awaitable<Map<number, SlotThresholds[]>>;
  /** Replaces one key's thresholds. */
  saveThresholds(keyId: number, slots: readonly SlotThresholds[]): Awaitable<void>;
  bumpGeneration(name: 'baselines' | 'thresholds'): Awaitable<number>;
}
