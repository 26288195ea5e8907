import type { Timer } from '../../component/clock.js';
import type { CreateSettings } from '../../component/factory.js';
import { bySeverity, type AnomalyProcessorConfig } from './config.js';
import { AnomalyFeed, type AnomalyListener } from './internal/anomaly-feed.js';
import type { AnomalyQuery, AnomalyRecord } from './internal/anomaly-record.js';
import { BaselineModel } from './internal/baseline-model.js';
import { DetectorMetrics } from './internal/detector-metrics.js';
import { JobAborted, JobQueue } from './internal/job-queue.js';
import type { KeyState } from './internal/key-state.js';
import { learnBatch } from './internal/learn-batch.js';
import { buildProfile, type BaselineProfile } from './internal/profile.js';
import { rebuildMoments, recalculate, type RecalcReport } from './internal/recalculate.js';
import { scheduleCron } from './internal/schedule.js';
import { scoreBatch, type ScoredBatch, type ScoringContext } from './internal/score-batch.js';
import { windowLabels } from './internal/slots.js';
import { pendingWritten, writePending } from './internal/write-pending.js';
import type { KeyRow } from './internal/store/baseline-store.js';
import { Storage } from './internal/store/storage.js';
import { TimeBuckets } from './internal/time-buckets.js';

const REFRESH_KEYS_PER_FLUSH = 64;
const MAX_PENDING_ROWS = 200_000;

/**
 * The engine behind the `anomaly` processor: hot baselines in memory, scoring and learning, the
 * periodic flush to SQLite, and the background jobs (threshold recalculation on its cron schedule
 * and on demand, the daily window roll with retention). One per processor id, shared by the
 * pipelines that list that id; the admin API reads it too.
 */
export class AnomalyDetector {
  readonly model: BaselineModel;
  readonly storage: Storage;
  readonly feed: AnomalyFeed;
  private readonly buckets: TimeBuckets;
  private readonly scoring: ScoringContext;
  private readonly jobs: JobQueue;
  private readonly metrics: DetectorMetrics;
  private readonly percentiles: number[];
  private readonly timers: Timer[] = [];
  private day = Number.NaN;
  private generations = { baselines: -1, thresholds: -1 };
  private refreshQueued = false;
  /** The database's baselines have been read into memory (at start, or when it first opened). */
  private loaded = false;
  private reported = { storage: 0, keys: 0, history: 0 };

  constructor(
    readonly id: string,
    private readonly settings: CreateSettings,
    readonly config: AnomalyProcessorConfig,
  ) {
    this.model = new BaselineModel(config.max_keys);
    this.buckets = new TimeBuckets(config.timezone);
    this.storage = new Storage(config.storage, config.timezone, settings.logger);
    this.feed = new AnomalyFeed(config.max_history_pending);
    this.metrics = new DetectorMetrics(settings.metrics, id);
    this.jobs = new JobQueue((err, job) => {
      settings.logger.error({ err, job }, 'anomaly background job failed');
    });
    this.percentiles = bySeverity(config.severity_percentiles).map((p) => p / 100);
    this.scoring = {
      model: this.model,
      buckets: this.buckets,
      minSamples: config.min_samples,
      minDeltaMs: config.min_delta_ms,
      minSeverity: config.min_severity,
      fixed: Float64Array.from(bySeverity(config.fixed_thresholds)),
      windows: windowLabels(config.timezone),
      detector: 'latency',
    };
  }

  async start(): Promise<void> {
    const { clock, logger } = this.settings;
    const now = clock.now();
    this.day = this.buckets.day(now);
    if (this.storage.ensureOpen(now) !== 'unavailable') await this.load(now);
    this.timers.push(clock.setInterval(() => this.flush(), this.config.flush_interval).unref());
    const { recalculation, timezone } = this.config;
    if (recalculation.enabled) {
      this.timers.push(
        scheduleCron(clock, recalculation.schedule, timezone, () => {
          this.jobs.submit('scheduled recalculation', () => this.recalc(undefined));
        }),
      );
    }
    logger.info(
      { storage: this.storage.file, keys: this.model.size, timezone },
      'anomaly detection started',
    );
  }

  /** Scores a trace request; the caller forwards `bytes` and calls `accept` once it is accepted. */
  score(bytes: Uint8Array): ScoredBatch {
    return scoreBatch(bytes, this.scoring, this.settings.clock.now());
  }

  scoringFailed(): void {
    this.metrics.scoringFailed();
  }

  /** Learns from a batch accepted downstream and publishes its anomalies. */
  accept(scored: ScoredBatch): void {
    const today = this.buckets.day(this.settings.clock.now());
    learnBatch(scored, {
      learnErrors: this.config.learn_from_errors,
      excludeSevere: this.config.exclude_severe_from_baseline,
      firstDay: today - this.config.window_days + 1,
      lastDay: today + 1,
    });
    if (scored.anomalies.length === 0) return;
    const counts = new Uint32Array(6);
    for (const a of scored.anomalies) counts[a.severity]!++;
    this.metrics.taggedSpans(counts);
    this.feed.publish(scored.anomalies);
  }

  /** Writes the learning and anomalies of the last interval in one transaction. */
  flush(): void {
    const started = performance.now();
    const now = this.settings.clock.now();
    const state = this.storage.ensureOpen(now);
    if (state === 'reopened') this.model.clearIds();
    if (state !== 'unavailable' && !this.loaded) {
      this.loaded = true;
      this.jobs.submit('load baselines', () => this.load(this.settings.clock.now()));
    }
    const anomalies = this.feed.unflushed();
    const count = anomalies.length;
    const written =
      state === 'unavailable'
        ? undefined
        : this.storage.write((b, a) => {
            const w = writePending(b, this.model);
            a.insert(anomalies);
            return w;
          });
    this.report();
    if (!written) {
      this.limitPending();
      return;
    }
    pendingWritten(this.model, written);
    this.feed.flushed(count);
    this.metrics.flushed((performance.now() - started) / 1000);
    this.afterFlush(now);
  }

  /** Recalculates thresholds now (flushing first); resolves with what changed. */
  recalculate(): Promise<RecalcReport> {
    return this.jobs.run('recalculation', () => this.recalc(undefined));
  }

  /** Resolves once no background job is queued or running (tests, the CLI). */
  idle(): Promise<void> {
    return this.jobs.idle();
  }

  keys(filter: { service?: string; operation?: string; kind?: number }): KeyState[] {
    const out: KeyState[] = [];
    for (const k of this.model.keys()) {
      if (filter.service !== undefined && k.service !== filter.service) continue;
      if (filter.operation !== undefined && k.operation !== filter.operation) continue;
      if (filter.kind !== undefined && k.kind !== filter.kind) continue;
      out.push(k);
    }
    return out.sort(
      (a, b) => a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation),
    );
  }

  profile(key: KeyState): BaselineProfile {
    let stored;
    try {
      stored = key.id === undefined ? undefined : this.storage.baselines?.thresholds(key.id);
    } catch {
      stored = undefined;
    }
    return buildProfile(key, (key.id !== undefined && stored?.get(key.id)) || [], {
      timeZone: this.config.timezone,
      minSamples: this.config.min_samples,
      windows: this.scoring.windows,
      fixed: Array.from(this.scoring.fixed),
    });
  }

  history(q: AnomalyQuery): AnomalyRecord[] {
    let stored: AnomalyRecord[] = [];
    try {
      stored = this.storage.anomalies?.query(q) ?? [];
    } catch (err) {
      this.settings.logger.warn(
        { err },
        'cannot read the anomaly history; serving recent anomalies only',
      );
    }
    return this.feed.query(q, stored);
  }

  subscribe(listener: AnomalyListener): () => void {
    return this.feed.subscribe(listener);
  }

  async shutdown(): Promise<void> {
    for (const t of this.timers) t.cancel();
    await this.jobs.stop();
    this.flush();
    this.storage.close();
  }

  private sinceDay(): number {
    return this.buckets.day(this.settings.clock.now()) - this.config.window_days + 1;
  }

  /** Reads the stored window into memory; a failure leaves detection running from memory. */
  private async load(now: number): Promise<void> {
    this.loaded = true;
    try {
      this.retention(now);
      await this.rebuild();
      this.reloadThresholds();
      const b = this.storage.baselines;
      if (b) {
        this.generations = {
          baselines: b.generation('baselines'),
          thresholds: b.generation('thresholds'),
        };
      }
    } catch (err) {
      if (err instanceof JobAborted) throw err;
      this.settings.logger.error(
        { err, storage: this.storage.file },
        'cannot read the stored baselines; learning starts from what arrives',
      );
    }
  }

  private afterFlush(now: number): void {
    const b = this.storage.baselines!;
    const today = this.buckets.day(now);
    if (today !== this.day) {
      this.day = today;
      this.jobs.submit('window roll', async () => {
        this.retention(this.settings.clock.now());
        await this.rebuild();
      });
    }
    const g = { baselines: b.generation('baselines'), thresholds: b.generation('thresholds') };
    if (g.baselines !== this.generations.baselines) {
      this.jobs.submit('reload baselines', () => this.rebuild());
    }
    if (g.thresholds !== this.generations.thresholds) this.reloadThresholds();
    this.generations = g;
    if (this.refreshQueued) return;
    const stale: number[] = [];
    for (const k of this.model.keys()) {
      const n = k.count();
      if (k.id !== undefined && n >= this.config.min_samples && n >= 2 * k.refreshedAt) {
        stale.push(k.id);
        if (stale.length >= REFRESH_KEYS_PER_FLUSH) break;
      }
    }
    if (stale.length === 0) return;
    this.refreshQueued = true;
    this.jobs.submit('threshold refresh', async () => {
      try {
        await this.recalc(stale);
      } finally {
        this.refreshQueued = false;
      }
    });
  }

  private async recalc(keyIds: number[] | undefined): Promise<RecalcReport> {
    this.flush();
    const b = this.storage.baselines;
    if (!b) throw new Error(`the baseline database ${this.storage.file} is not available`);
    try {
      const report = await recalculate(b, {
        sinceDay: this.sinceDay(),
        keyIds,
        percentiles: this.percentiles,
        minSamples: this.config.min_samples,
        now: this.settings.clock.now(),
        timeZone: this.config.timezone,
        pause: this.jobs.pause,
        onKey: (row, window, slots) => this.install(row, window)?.setThresholds(slots),
      });
      this.generations.thresholds = b.generation('thresholds');
      if (keyIds === undefined) {
        this.metrics.recalculated('ok');
        this.settings.logger.info(
          { keys: report.keys, changed: report.changed, durationMs: report.duration_ms },
          'thresholds recalculated',
        );
      }
      return report;
    } catch (err) {
      if (keyIds === undefined) this.metrics.recalculated('failed');
      throw err;
    }
  }

  /** Window moments from SQLite for every stored key; keys left without data are forgotten. */
  private async rebuild(): Promise<void> {
    const b = this.storage.baselines;
    if (!b) return;
    await rebuildMoments(b, {
      sinceDay: this.sinceDay(),
      pause: this.jobs.pause,
      onKey: (row, window) => this.install(row, window),
    });
    this.generations.baselines = b.generation('baselines');
    for (const k of [...this.model.keys()]) {
      if (k.count() === 0 && k.pending.length === 0) this.model.remove(k);
    }
  }

  private install(row: KeyRow, window: Float64Array): KeyState | undefined {
    const { model } = this;
    let key = model.withId(row.id) ?? model.get(row.service, row.operation, row.kind);
    if (!key) {
      key = model.key(model.operations(row.service), row.service, row.operation, row.kind);
      if (!key) return undefined;
    }
    if (key.id !== row.id) model.setId(key, row.id);
    key.replaceMoments(window);
    return key;
  }

  private reloadThresholds(): void {
    const all = this.storage.baselines?.thresholds();
    if (!all) return;
    for (const key of this.model.keys()) {
      if (key.id !== undefined) key.setThresholds(all.get(key.id) ?? []);
    }
  }

  private retention(now: number): void {
    const day = this.sinceDay();
    const retentionMs = this.config.history_retention;
    const removed = this.storage.write((b, a) => ({
      anomalies: a.deleteRecordedBefore(now - retentionMs),
      ...b.deleteBefore(day),
    }));
    if (removed && (removed.rows > 0 || removed.anomalies > 0)) {
      this.settings.logger.info(removed, 'retention: removed old daily rows and anomalies');
    }
  }

  /** Bounds the learning held for the database while it fails: beyond a limit it is dropped. */
  private limitPending(): void {
    let rows = 0;
    for (const k of this.model.keys()) rows += k.pending.length;
    if (rows <= MAX_PENDING_ROWS) return;
    let samples = 0;
    for (const k of this.model.keys()) {
      for (const r of k.pending) samples += r.m.count;
      k.pending = [];
    }
    this.metrics.droppedItems('learning', samples);
  }

  /** Moves counters kept as plain numbers on the hot path into the metrics. */
  private report(): void {
    const r = this.reported;
    this.metrics.storageFailed(this.storage.failures - r.storage);
    this.metrics.droppedItems('keys_limit', this.model.refusedKeys - r.keys);
    this.metrics.droppedItems('history', this.feed.dropped - r.history);
    this.reported = {
      storage: this.storage.failures,
      keys: this.model.refusedKeys,
      history: this.feed.dropped,
    };
    this.metrics.keyCount(this.model.size);
  }
}
