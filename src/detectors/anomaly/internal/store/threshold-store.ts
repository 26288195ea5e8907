import type { SlotThresholds } from '../thresholds.js';

export type Awaitable<T> = T | Promise<T>;

export interface KeyRow {
  readonly id: number;
  readonly service: string;
  readonly operation: string;
  readonly kind: number;
}

/** One daily row's moments: a key, a local day and hour. */
export interface MomentRow {
  readonly key_id: number;
  readonly day: number;
  readonly hour: number;
  readonly count: number;
  readonly mean: number;
  readonly m2: number;
}

export interface SketchRow extends MomentRow {
  readonly sketch: Uint8Array;
}

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
