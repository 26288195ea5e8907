import type { Logger } from 'pino';
import type { Clock } from '../../../component/clock.js';
import type { AnomalyProcessorConfig } from '../config.js';
import type { BaselineModel } from './baseline-model.js';
import type { DetectorMetrics } from './detector-metrics.js';
import { JobAborted, type JobQueue } from './job-queue.js';
import type { KeyState } from './key-state.js';
import { resumeLevels } from './level-saves.js';
import { rebuildMoments, recalculate, type RecalcReport } from './recalculate.js';
import type { KeyRow } from './store/threshold-store.js';
import type { Storage } from './store/storage.js';
import { bucketOfDayHour, type TimeBuckets } from './time-buckets.js';

const REFRESH_KEYS_PER_FLUSH = 64;

export interface SyncContext {
  readonly model: BaselineModel;
  readonly storage: Storage;
  readonly jobs: JobQueue;
  readonly buckets: TimeBuckets;
  readonly config: AnomalyProcessorConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: DetectorMetrics;
  /** `[sev5 .. sev1]` as fractions, for the point and the level thresholds (level.ts). */
  readonly percentiles: { readonly point: readonly number[]; readonly level: readonly number[] };
  /** Writes what is pending (a recalculation reads the database, so it flushes first). */
  readonly flush: () => void;
  /** After the window's moments were read again (at start, at the daily roll): the rates' turn. */
  readonly rebuilt?: (sinceDay: number) => void;
}

/**
 * Keeps the in-memory baselines and the SQLite file in step, beyond the flush: loading the window
 * at start, the daily window roll (retention, then a rebuild of the window moments from the daily
 * rows), recalculations (scheduled, on demand, and for keys whose history doubled), and picking up
 * what other processes (`hourglass recalculate`, `hourglass backfill`) wrote. Long passes run as
 * background jobs that yield to traffic between keys.
 */
export class BaselineSync {
  /** The database's baselines have been read into memory (at start, or when it first opened). */
  loaded = false;
  private day = Number.NaN;
  private generations = { baselines: -1, thresholds: -1 };
  private refreshQueued = false;

  constructor(private readonly c: SyncContext) {}

  /** The first local day of the window. */
  sinceDay(): number {
    return this.c.buckets.day(this.c.clock.now()) - this.c.config.window_days + 1;
  }

  /** Reads the stored window into memory; a failure leaves detection running from memory. */
  async load(now: number): Promise<void> {
    this.loaded = true;
    this.day = this.c.buckets.day(now);
    try {
      // Nothing of a file beyond this version's bounds is read before it is trimmed.
      if (!this.c.storage.trim(this.c.config.max_keys, this.sinceDay())) return;
      this.retention(now);
      await this.rebuild();
      this.reloadThresholds();
      // The levels as the last run left them (a restart keeps the slow-operation detection).
      const levels = this.c.storage.levels;
      if (levels) resumeLevels(this.c.model, levels.levels(), now);
      // Keys still without level thresholds borrow at once, as they did before the restart.
      this.c.model.firstLevels(this.c.percentiles.level);
      const b = this.c.storage.baselines;
      if (b) {
        this.generations = {
          baselines: b.generation('baselines'),
          thresholds: b.generation('thresholds'),
        };
      }
    } catch (err) {
      if (err instanceof JobAborted) throw err;
      this.c.logger.error(
        { err, storage: this.c.storage.file },
        'cannot read the stored baselines; learning starts from what arrives',
      );
    }
  }

  /** After a successful flush: roll the window, follow other processes, refresh grown keys. */
  afterFlush(now: number): void {
    const { jobs, model, config } = this.c;
    const b = this.c.storage.baselines!;
    const today = this.c.buckets.day(now);
    if (today !== this.day) {
      this.day = today;
      jobs.submit('window roll', async () => {
        this.retention(this.c.clock.now());
        await this.rebuild();
      });
    }
    const g = { baselines: b.generation('baselines'), thresholds: b.generation('thresholds') };
    if (g.baselines !== this.generations.baselines) {
      jobs.submit('reload baselines', () => this.rebuild());
    }
    if (g.thresholds !== this.generations.thresholds) this.reloadThresholds();
    this.generations = g;
    // A key's first level thresholds (a new key, or one whose level was not stored) as soon as it
    // has seen enough spans, not at the next night; until then, the ones its service's (or the
    // processor's) learned levels show.
    model.firstLevels(this.c.percentiles.level);
    if (this.refreshQueued) return;
    // Keys whose history doubled since their thresholds were computed (new keys), and keys whose
    // current hour's bucket (or its hour, day) reached min_samples since: thresholds as soon as a
    // key or a bucket has the data, not at the next night.
    const stale = staleKeys(
      model,
      bucketOfDayHour(this.c.buckets.dayHour(now)),
      config.min_samples,
    );
    if (stale.length === 0) return;
    this.refreshQueued = true;
    jobs.submit('threshold refresh', async () => {
      try {
        await this.recalc(stale);
      } finally {
        this.refreshQueued = false;
      }
    });
  }

  /** Recalculates the thresholds of `keyIds` (all keys when undefined) and installs them. */
  async recalc(keyIds: number[] | undefined): Promise<RecalcReport> {
    const { config, metrics } = this.c;
    this.c.flush();
    const b = this.c.storage.baselines;
    if (!b) throw new Error(`the baseline database ${this.c.storage.file} is not available`);
    try {
      const report = await recalculate(b, {
        sinceDay: this.sinceDay(),
        keyIds,
        percentiles: this.c.percentiles.point,
        minSamples: config.min_samples,
        now: this.c.clock.now(),
        // A background refresh may meet a new hour's bucket under way (young-slots.ts).
        current: keyIds === undefined ? undefined : this.c.buckets.dayHour(this.c.clock.now()),
        timeZone: config.timezone,
        pause: this.c.jobs.pause,
        onKey: (row, window, slots, tenfold) => {
          const key = this.install(row, window);
          key?.setThresholds(slots);
          key?.setTenfold(tenfold);
          // The level's histogram forgets at full recalculations (nightly) only: a young key's
          // background refreshes (each new hour's bucket) would make it forget within hours.
          key?.level.recompute(this.c.percentiles.level, keyIds === undefined);
        },
      });
      this.generations.thresholds = b.generation('thresholds');
      if (keyIds === undefined) {
        metrics.recalculated('ok');
        this.c.logger.info(
          { keys: report.keys, changed: report.changed, durationMs: report.duration_ms },
          'thresholds recalculated',
        );
      }
      return report;
    } catch (err) {
      if (keyIds === undefined) metrics.recalculated('failed');
      throw err;
    }
  }

  /** Window moments from SQLite for every stored key; keys left without data are forgotten. */
  private async rebuild(): Promise<void> {
    const b = this.c.storage.baselines;
    if (!b) return;
    await rebuildMoments(b, {
      sinceDay: this.sinceDay(),
      pause: this.c.jobs.pause,
      onKey: (row, window) => this.install(row, window),
    });
    this.generations.baselines = b.generation('baselines');
    const { model } = this.c;
    for (const k of [...model.keys()]) {
      if (k.count() === 0 && k.pending.length === 0 && k.rates === undefined) model.remove(k);
    }
    this.c.rebuilt?.(this.sinceDay());
  }

  private install(row: KeyRow, window: Float64Array): KeyState | undefined {
    const { model } = this.c;
    let key = model.withId(row.id) ?? model.get(row.service, row.operation, row.kind);
    if (!key) {
      key = model.key(row.service, row.operation, row.kind);
      if (!key) return undefined;
    }
    if (key.id !== row.id) model.setId(key, row.id);
    key.replaceMoments(window);
    return key;
  }

  private reloadThresholds(): void {
    const all = this.c.storage.baselines?.thresholds();
    if (!all) return;
    for (const key of this.c.model.keys()) {
      if (key.id !== undefined) key.setThresholds(all.get(key.id) ?? []);
    }
  }

  private retention(now: number): void {
    const day = this.sinceDay();
    const yesterday = this.c.buckets.day(now) - 1;
    const { model, config } = this.c;
    const removed = this.c.storage.write((b, a) => {
      const anomalies = a.deleteRecordedBefore(now - config.history_retention);
      const old = b.deleteBefore(day);
      // Keys without a baseline (fewer than min_samples spans in the window) and without a span
      // today or yesterday are forgotten: junk names do not stay for the whole window.
      const idle = b
        .idleKeys(day, config.min_samples, yesterday)
        .filter((id) => (model.withId(id)?.pending.length ?? 0) === 0);
      b.deleteKeys(idle);
      return { anomalies, ...old, idle };
    });
    if (!removed) return;
    for (const id of removed.idle) {
      const key = model.withId(id);
      if (key) model.remove(key);
    }
    const { rows, keys, anomalies, idle } = removed;
    if (rows > 0 || anomalies > 0 || idle.length > 0) {
      this.c.metrics.evictedKeys('idle', idle.length);
      this.c.logger.info(
        { rows, keys, anomalies, idleKeys: idle.length },
        'retention: removed old daily rows, anomalies and idle keys without a baseline',
      );
    }
  }
}

/**
 * Ids of keys whose history doubled since their thresholds were computed, or whose `bucket` (or
 * its hour, day) reached `minSamples` since: at most REFRESH_KEYS_PER_FLUSH.
 */
export function staleKeys(model: BaselineModel, bucket: number, minSamples: number): number[] {
  const stale: number[] = [];
  for (const k of model.keys()) {
    const n = k.count();
    if (
      k.id !== undefined &&
      n >= minSamples &&
      (n >= 2 * k.refreshedAt || k.lacksThresholds(bucket, minSamples))
    ) {
      stale.push(k.id);
      if (stale.length >= REFRESH_KEYS_PER_FLUSH) break;
    }
  }
  return stale;
}
