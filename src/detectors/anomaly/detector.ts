import type { Timer } from '../../component/clock.js';
import type { CreateSettings } from '../../component/factory.js';
import { bySeverity, type AnomalyProcessorConfig } from './config.js';
import {
  countRows,
  sumRows,
  type CountQuery,
  type ServiceCounts,
} from './internal/anomaly-counts.js';
import { AnomalyFeed, type AnomalyListener } from './internal/anomaly-feed.js';
import { replayAfter, type ReplayFilter, type StoredAfter } from './internal/history-replay.js';
import type { AnomalyQuery, AnomalyRecord } from './internal/anomaly-record.js';
import { BaselineModel } from './internal/baseline-model.js';
import { DetectorMetrics } from './internal/detector-metrics.js';
import { BaselineSync } from './internal/baseline-sync.js';
import { FleetSync } from './internal/fleet-sync.js';
import { isPostgresUrl } from './internal/store/pg-connect.js';
import { JobQueue } from './internal/job-queue.js';
import { KeyForm } from './internal/key-form.js';
import { splitPercentiles } from './internal/level.js';
import { levelsDue, levelsWritten } from './internal/level-saves.js';
import { runLimits } from './internal/slow-run.js';
import type { KeyState } from './internal/key-state.js';
import { learnBatch } from './internal/learn-batch.js';
import { PendingSummaries } from './internal/pending-summaries.js';
import { RecentSpans, checkRepeats } from './internal/recent-spans.js';
import { buildProfile, type BaselineProfile } from './internal/profile.js';
import type { RecalcReport } from './internal/recalculate.js';
import { scheduleCron } from './internal/schedule.js';
import {
  scoreBatch,
  supportOf,
  type ScoredBatch,
  type ScoringContext,
} from './internal/score-batch.js';
import { windowLabels } from './internal/slots.js';
import { AttributeEncoder } from './internal/tagger.js';
import { deleteEvicted, pendingWritten, writePending } from './internal/write-pending.js';
import type { AnomalyStore } from './internal/store/anomaly-store.js';
import { Storage } from './internal/store/storage.js';
import { incidentSource, type IncidentSource } from './incidents/incident-source.js';
import { TimeBuckets, bucketOfDayHour } from './internal/time-buckets.js';
import { IncidentEngine } from './incidents/engine.js';
import { levelLookup } from './incidents/origin-level.js';
import { IncidentMetrics } from './incidents/incident-metrics.js';
import { FleetIncidents } from './incidents/fleet-incidents.js';
import { dropRecord } from './internal/rates/drop-record.js';
import { RateDetector, type TrafficDrop } from './internal/rates/rate-detector.js';
import { loadRates, ratesWritten, writeRatePending } from './internal/rates/rate-sync.js';
import { boundText } from '../../otlp/bounded-text.js';
import type { SpanLayout } from '../../otlp/trace-index.js';

const MAX_PENDING_ROWS = 200_000;
/** A summary kept with the history (any exporter may attach one): cut beyond this. */
const MAX_SUMMARY_BYTES = 16 * 1024;
/** Ids of spans tagged or seen tagged, remembered per flush interval (recent-spans.ts). */
const MAX_RECENT_IDS = 50_000;
/** How often incidents are checked for their quiet period (and their gauges set). */
const TICK_MS = 1_000;

/**
 * The engine behind the `anomaly` processor: hot baselines in memory, scoring and learning, the
 * periodic flush to SQLite, and the background jobs (threshold recalculation on its cron schedule
 * and on demand, the daily window roll with retention). One per processor id, shared by the
 * pipelines that list that id; the admin API reads it too.
 */
export class AnomalyDetector {
  readonly model: BaselineModel;
  readonly storage: Storage;
  /** The shared PostgreSQL database when `storage` is a postgres:// URL (SQLite otherwise). */
  readonly fleet: FleetSync | undefined;
  readonly feed: AnomalyFeed;
  /** One incident per fault (incidents/README.md); undefined when `incidents.enabled` is false. */
  readonly incidents: IncidentEngine | undefined;
  /** The incidents as other components read them (the `anomaly.incidents` capability). */
  readonly incidentSource: IncidentSource | undefined;
  private readonly buckets: TimeBuckets;
  private readonly scoring: ScoringContext;
  /** The error and traffic detectors (undefined when both are off). */
  private readonly rates: RateDetector | undefined;
  private readonly jobs: JobQueue;
  /** The recalculation asked for that has not started yet (`recalculate`). */
  private queuedRecalculation: Promise<RecalcReport> | undefined;
  private readonly metrics: DetectorMetrics;
  private readonly sync: BaselineSync;
  private readonly timers: Timer[] = [];
  private readonly summaries: PendingSummaries;
  private readonly recent = new RecentSpans(MAX_RECENT_IDS);
  /** The incidents shared with a fleet (PostgreSQL storage, incidents on). */
  private readonly fleetIncidents: FleetIncidents | undefined;
  private flushAsked = false;
  private repeated = 0;
  /** Spans that end more than a day ahead of the clock (score-batch.ts FUTURE_END_MS). */
  private futureSpans = 0;
  private loggedFutureSpans = false;
  private loggedKeysLimit = false;
  private flushFailing = false;

  constructor(
    readonly id: string,
    private readonly settings: CreateSettings,
    readonly config: AnomalyProcessorConfig,
    /** `fleetSchema`: the shared database's schema version to run (a test's previous release). */
    options: { readonly fleetSchema?: number } = {},
  ) {
    this.model = new BaselineModel(config.max_keys, config.min_samples);
    this.buckets = new TimeBuckets(config.timezone);
    this.storage = new Storage(config.storage, config.timezone, settings.logger);
    this.feed = new AnomalyFeed(config.max_history_pending, () => settings.clock.now());
    this.summaries = new PendingSummaries(config.max_history_pending);
    this.metrics = new DetectorMetrics(settings.metrics, id);
    this.jobs = new JobQueue((err, job) => {
      settings.logger.error({ err, job }, 'anomaly background job failed');
    });
    const levels = splitPercentiles(bySeverity(config.severity_percentiles).map((p) => p / 100));
    const incidentMetrics = new IncidentMetrics(
      settings.metrics,
      id,
      config.incidents.max_metric_services,
    );
    // A fleet's incidents open and resolve across instances (fleet-incidents.ts): no reopening,
    // no hold on one instance's level. Said once at start to whoever set them.
    const incidents = isPostgresUrl(config.storage)
      ? { ...config.incidents, reopen_within: 0, hold_while_slower: 0 }
      : config.incidents;
    const unused = (['reopen_within', 'hold_while_slower'] as const).filter(
      (k) => config.incidents.enabled && incidents[k] !== config.incidents[k],
    );
    if (unused.length > 0) {
      settings.logger.warn(
        `incidents.${unused.join(' and incidents.')} ${unused.length > 1 ? 'are' : 'is'} not used with a PostgreSQL storage (a fleet's incidents resolve across instances): they stay off`,
      );
    }
    this.incidents = config.incidents.enabled
      ? new IncidentEngine(incidents, incidentMetrics, levelLookup(this.model))
      : undefined;
    const fleetIncidents =
      this.incidents && isPostgresUrl(config.storage)
        ? new FleetIncidents(this.incidents, {
            instance: () => this.fleet!.instance,
            quiet: config.incidents,
            flushMs: config.flush_interval,
            metrics: incidentMetrics,
            logger: settings.logger,
            now: () => settings.clock.now(),
            requestFlush: () => this.flushSoon(),
          })
        : undefined;
    this.fleetIncidents = fleetIncidents;
    this.fleet = isPostgresUrl(config.storage)
      ? new FleetSync({
          model: this.model,
          buckets: this.buckets,
          config,
          logger: settings.logger,
          clock: settings.clock,
          metrics: this.metrics,
          feed: this.feed,
          summaries: this.summaries,
          jobs: this.jobs,
          percentiles: levels,
          schemaVersion: options.fleetSchema,
          learnsRates: () => this.rates !== undefined,
          incidents: fleetIncidents,
        })
      : undefined;
    this.sync = new BaselineSync({
      model: this.model,
      storage: this.storage,
      jobs: this.jobs,
      buckets: this.buckets,
      config,
      logger: settings.logger,
      clock: settings.clock,
      metrics: this.metrics,
      percentiles: splitPercentiles(bySeverity(config.severity_percentiles).map((p) => p / 100)),
      flush: () => this.flush(),
      rebuilt: (sinceDay) => this.loadRates(sinceDay),
    });
    this.incidentSource =
      this.incidents &&
      incidentSource(
        this.incidents,
        () => this.storage.incidents,
        () => [...new Set(Array.from(this.model.keys(), (k) => k.service))],
        () => settings.clock.now(),
        settings.logger,
        fleetIncidents,
      );
    const windows = windowLabels(config.timezone);
    const percentiles = splitPercentiles(
      bySeverity(config.severity_percentiles).map((p) => p / 100),
    );
    const rates = new RateDetector(
      {
        errors: config.errors.enabled,
        traffic: config.traffic.enabled,
        minSeverity: config.min_severity,
        exponents: Float64Array.from(
          bySeverity(config.severity_percentiles),
          (p) => -Math.log(1 - p / 100),
        ),
      },
      this.buckets,
      (drop) => this.dropped(drop),
    );
    this.rates = rates.enabled ? rates : undefined;
    this.scoring = {
      model: this.model,
      keyForm: new KeyForm(config.key_attributes),
      buckets: this.buckets,
      minSamples: config.min_samples,
      minDeltaMs: config.min_delta_ms,
      minSeverity: config.min_severity,
      fixed: Float64Array.from(bySeverity(config.fixed_thresholds)),
      support: supportOf(percentiles.point),
      pointRates: Float64Array.from(percentiles.point, (q) => 1 - q),
      runLimits: runLimits(percentiles.level),
      windows,
      detector: 'latency',
      encoder: new AttributeEncoder('latency', windows),
      latency: config.latency.enabled,
      rates: this.rates,
      incidents: this.incidents,
    };
  }

  async start(): Promise<void> {
    const { clock, logger } = this.settings;
    const now = clock.now();
    const fleet = this.fleet;
    if (fleet) await fleet.start();
    else if (this.storage.ensureOpen(now) !== 'unavailable') {
      await this.sync.load(now);
      this.loadIncidents();
    }
    const incidents = this.incidents;
    if (incidents) {
      this.timers.push(
        clock
          .setInterval(() => {
            incidents.tick(clock.now());
            this.fleetIncidents?.tick(clock.now());
          }, TICK_MS)
          .unref(),
      );
    }
    this.timers.push(
      clock.setInterval(() => this.flushSafely(), this.config.flush_interval).unref(),
    );
    const { recalculation, timezone } = this.config;
    if (recalculation.enabled) {
      this.timers.push(
        scheduleCron(clock, recalculation.schedule, timezone, () => {
          // A fleet claims the run by its scheduled minute: one instance recalculates for all.
          const minute = Math.floor(clock.now() / 60_000) * 60_000;
          this.jobs.submit('scheduled recalculation', () =>
            fleet ? fleet.recalc(undefined, minute) : this.sync.recalc(undefined),
          );
        }),
      );
    }
    logger.info(
      {
        storage: fleet ? fleet.label : this.storage.file,
        ...(fleet ? { instance: fleet.instance } : {}),
        keys: this.model.size,
        timezone,
      },
      'anomaly detection started',
    );
  }

  /** Scores a trace request; the caller forwards `bytes` and calls `accept` once it is accepted. */
  score(bytes: Uint8Array, layout?: SpanLayout): ScoredBatch {
    const scored = scoreBatch(bytes, this.scoring, this.settings.clock.now(), layout);
    this.futureSpans += scored.futureSpans;
    return scored;
  }

  scoringFailed(): void {
    this.metrics.scoringFailed();
  }

  /** Learns from a batch accepted downstream and publishes its anomalies. */
  accept(scored: ScoredBatch): void {
    const today = this.buckets.day(this.settings.clock.now());
    const repeats = checkRepeats(scored, this.recent);
    learnBatch(
      scored,
      {
        learnErrors: this.config.learn_from_errors,
        excludeSevere: this.config.exclude_severe_from_baseline,
        firstDay: today - this.config.window_days + 1,
        lastDay: today + 1,
      },
      repeats?.skip,
    );
    let anomalies = scored.anomalies;
    if (repeats) {
      // The same span seen again is the same anomaly: published and counted once.
      this.repeated += repeats.ids.size;
      anomalies = anomalies.filter((a) => !repeats.ids.has(a.id));
    }
    if (anomalies.length === 0) return;
    const counts = new Uint32Array(6);
    for (const a of anomalies) counts[a.severity]!++;
    this.metrics.taggedSpans(counts);
    this.feed.publish(anomalies);
  }

  /**
   * Writes what is pending and resolves once written (or failed: it is kept); with a shared
   * database, also picks up what the other instances wrote.
   */
  async flushNow(): Promise<void> {
    if (this.fleet) {
      this.beforeFleetFlush();
      await this.fleet.flush();
      this.report();
      return;
    }
    this.flush();
  }

  /**
   * Writes the learning and anomalies of the last interval in one transaction, with the levels
   * due (level-saves.ts; every changed one when `final`, at shutdown).
   */
  flush(final = false): void {
    if (this.fleet) {
      this.beforeFleetFlush();
      this.fleet.tick();
      this.report();
      return;
    }
    const started = performance.now();
    const now = this.settings.clock.now();
    const state = this.storage.ensureOpen(now);
    if (state === 'reopened') this.model.clearIds();
    if (state !== 'unavailable' && !this.sync.loaded) {
      this.sync.loaded = true;
      this.jobs.submit('load baselines', () => this.sync.load(this.settings.clock.now()));
    }
    // Minutes that ended are judged (drops) and learned even when no span arrives.
    this.rates?.tick(now, this.model);
    const anomalies = this.feed.unflushed();
    const count = anomalies.length;
    const summaries = this.summaries.entries();
    let summarized: Set<string> | undefined;
    let rateWrite: ReturnType<typeof writeRatePending> | undefined;
    let levels: ReturnType<typeof levelsDue> = [];
    let trimmedHistory = 0;
    const written =
      state === 'unavailable'
        ? undefined
        : this.storage.write((b, a) => {
            deleteEvicted(b, this.model);
            const w = writePending(b, this.model);
            const rates = this.storage.rates;
            rateWrite = rates && writeRatePending(rates, b, this.model, w.assigned);
            // Keys given their id by this transaction too (a key new since the last flush).
            const given = [...w.assigned, ...(rateWrite?.assigned ?? [])];
            levels = levelsDue(this.model, now, final, given);
            this.storage.levels?.write(levels);
            a.insert(anomalies);
            trimmedHistory = a.trim(this.config.max_history);
            summarized = a.setSummaries(summaries);
            if (this.incidents && this.storage.incidents)
              this.incidents.write(this.storage.incidents, now);
            return w;
          });
    this.report();
    if (!written) {
      this.limitPending();
      return;
    }
    this.metrics.droppedItems('history_limit', trimmedHistory);
    pendingWritten(this.model, written);
    if (rateWrite) ratesWritten(this.model, rateWrite);
    levelsWritten(levels);
    this.model.evictedIds = [];
    this.feed.flushed(count);
    this.summaries.flushed(summarized!, summaries);
    this.metrics.flushed((performance.now() - started) / 1000);
    this.sync.afterFlush(now);
  }

  /**
   * A fleet's flush as soon as the request in hand is done (an incident opened: its claim decides
   * which instance notifies); never waited on, and one at a time (fleet-sync.ts).
   */
  private flushSoon(): void {
    if (this.flushAsked || !this.fleet) return;
    this.flushAsked = true;
    const fleet = this.fleet;
    setImmediate(() => {
      this.flushAsked = false;
      fleet.flush().catch((err: unknown) => {
        this.settings.logger.error({ err }, 'the flush of an opened incident failed');
      });
    });
  }

  /**
   * With a shared database: minutes that ended are judged and learned (as the SQLite flush does);
   * the fleet's flush writes their rows and reads the others' (fleet-sync.ts).
   */
  private beforeFleetFlush(): void {
    this.rates?.tick(this.settings.clock.now(), this.model);
    // Keys evicted here may be served by other instances: their rows stay (retention ends them).
    this.model.evictedIds = [];
  }

  /** A traffic drop: an anomaly without a span, published to the history and the stream. */
  private dropped(drop: TrafficDrop): void {
    const now = this.settings.clock.now();
    // Not a tagged span: hourglass_anomaly_spans_tagged_total does not count it. A drop of SEV3 or
    // worse opens (or joins) an incident of its own, as a slowdown of that severity does, so that
    // it reaches the notifications.
    this.feed.publish([dropRecord(drop, this.scoring.windows, now)]);
    if (drop.severity <= 3) {
      this.incidents?.openIncident(
        {
          service: drop.key.service,
          operation: drop.key.operation,
          reason: 'traffic_drop',
          severity: drop.severity,
        },
        now,
      );
    }
  }

  /** The rate baselines' window from SQLite (at start and at each daily roll), with retention. */
  private loadRates(sinceDay: number): void {
    const rates = this.storage.rates;
    if (!rates) return;
    this.storage.write(() => rates.deleteBefore(sinceDay));
    loadRates(rates, this.model, sinceDay, bucketOfDayHour);
  }

  /** The timer's flush: whatever fails is logged and counted, never thrown into the event loop. */
  private flushSafely(): void {
    // Spans tagged are remembered from one timer flush to the next but one (recent-spans.ts);
    // keys not seen since the last one are cold (key-limit.ts).
    this.recent.turn();
    this.model.tick();
    try {
      this.flush();
      this.flushFailing = false;
    } catch (err) {
      this.metrics.storageFailed(1);
      if (this.flushFailing) return;
      this.flushFailing = true;
      this.settings.logger.error({ err }, 'the periodic flush failed; it runs again next interval');
    }
  }

  /** Recalculates thresholds now (flushing first); resolves with what changed. */
  recalculate(): Promise<RecalcReport> {
    // A request while one is queued and not started joins it: however often it is asked for
    // (POST /api/v1/recalculate in a loop), one runs and at most one waits.
    if (this.queuedRecalculation) return this.queuedRecalculation;
    const fleet = this.fleet;
    const queued = this.jobs.run('recalculation', async () => {
      this.queuedRecalculation = undefined; // later requests may see newer data: they queue anew
      return fleet ? (await fleet.recalc(undefined))! : this.sync.recalc(undefined);
    });
    this.queuedRecalculation = queued;
    return queued;
  }

  /** Resolves once no background job is queued or running (tests, the CLI). */
  idle(): Promise<void> {
    return this.jobs.idle();
  }

  keys(filter: { service?: string; operation?: string; kind?: number }): KeyState[] {
    // Names are kept cut at MAX_NAME_BYTES: a longer name asked for is cut the same way.
    const service = filter.service === undefined ? undefined : boundText(filter.service);
    const operation = filter.operation === undefined ? undefined : boundText(filter.operation);
    const out: KeyState[] = [];
    for (const k of this.model.keys()) {
      if (service !== undefined && k.service !== service) continue;
      if (operation !== undefined && k.operation !== operation) continue;
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
      stored =
        key.id === undefined
          ? undefined
          : this.fleet
            ? new Map([[key.id, this.fleet.storedThresholds(key.id)]])
            : this.storage.baselines?.thresholds(key.id);
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

  history(query: AnomalyQuery): AnomalyRecord[] {
    const q = {
      ...query,
      service: query.service === undefined ? undefined : boundText(query.service),
      operation: query.operation === undefined ? undefined : boundText(query.operation),
    };
    const stored = this.readHistory((a) => a.query(q));
    return this.summaries.apply(this.feed.query(q, stored));
  }

  /**
   * The history as `history` serves it, read from wherever it is kept: with a shared database,
   * every instance's anomalies (the admin API reads this).
   */
  async loadHistory(query: AnomalyQuery): Promise<AnomalyRecord[]> {
    const fleet = this.fleet;
    if (!fleet) return this.history(query);
    const q = this.boundQuery(query);
    const stored = await this.readShared(() => fleet.history(q));
    return this.summaries.apply(this.feed.query(q, stored));
  }

  /** `counts`, read from wherever the history is kept (the admin API reads this). */
  async loadCounts(query: CountQuery): Promise<ServiceCounts[]> {
    const fleet = this.fleet;
    if (!fleet) return this.counts(query);
    const q = this.boundQuery(query);
    const stored = await this.readShared(() => fleet.counts(q));
    return sumRows([...stored, ...countRows(this.feed.unflushed(), q)], q);
  }

  private boundQuery<Q extends { service?: string | undefined; operation?: string | undefined }>(
    query: Q,
  ): Q {
    return {
      ...query,
      service: query.service === undefined ? undefined : boundText(query.service),
      operation: query.operation === undefined ? undefined : boundText(query.operation),
    };
  }

  private async readShared<T>(read: () => Promise<T[]>): Promise<T[]> {
    try {
      return await read();
    } catch (err) {
      this.settings.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        "cannot read the shared anomaly history; serving this instance's recent anomalies only",
      );
      return [];
    }
  }

  /** Tagged spans per service over time: the history's and those not written yet. */
  counts(query: CountQuery): ServiceCounts[] {
    const q = {
      ...query,
      service: query.service === undefined ? undefined : boundText(query.service),
    };
    const stored = this.readHistory((a) => a.counts(q));
    return sumRows([...stored, ...countRows(this.feed.unflushed(), q)], q);
  }

  /** Reads the stored history; while it cannot be read, only what is not written yet is served. */
  private readHistory<T>(read: (a: AnomalyStore) => T[]): T[] {
    try {
      // A fleet's history is read by loadHistory / loadCounts (asynchronously).
      return this.storage.anomalies && !this.fleet ? read(this.storage.anomalies) : [];
    } catch (err) {
      this.settings.logger.warn(
        { err },
        'cannot read the anomaly history; serving recent anomalies only',
      );
      return [];
    }
  }

  /**
   * Attaches a summary to anomalies of the history (the `llm_summary` exporter calls this): shown
   * at once, written onto their rows by the next flush.
   */
  attachSummary(anomalyIds: readonly string[], summary: string): void {
    this.summaries.add(anomalyIds, boundText(summary, MAX_SUMMARY_BYTES));
    this.incidents?.attachSummary(anomalyIds, boundText(summary, MAX_SUMMARY_BYTES));
  }

  /** Incidents left open at the last shutdown carry on (a failure to read them is logged). */
  private loadIncidents(): void {
    if (!this.incidents || !this.storage.incidents) return;
    try {
      this.incidents.load(this.storage.incidents);
    } catch (err) {
      this.settings.logger.warn({ err }, 'cannot read the open incidents; starting without them');
    }
  }

  subscribe(listener: AnomalyListener): () => void {
    return this.feed.subscribe(listener);
  }

  /**
   * Where an event stream of this processor starts: the place (`seq`) of the last anomaly it
   * published, or its start while none is (history-replay.ts).
   */
  streamPosition(): number {
    return this.feed.lastSeq;
  }

  /**
   * The anomalies published after `seq` that match `filter`, in the order published, at most
   * `limit` read from the history (history-replay.ts); undefined when the stream cannot resume from
   * `seq`. With a shared database: this instance's only, as its event stream.
   */
  async replay(
    seq: number,
    filter: ReplayFilter,
    limit: number,
  ): Promise<AnomalyRecord[] | undefined> {
    const fleet = this.fleet;
    const read: StoredAfter = fleet
      ? (s, known, f, n) => fleet.after(s, known, f, n)
      : (s, known, f, n) => {
          const a = this.storage.anomalies;
          if (!a || (!known && !a.hasSeq(s))) return undefined;
          return a.after(s, f, n);
        };
    try {
      const records = await replayAfter(this.feed, seq, this.boundQuery(filter), limit, read);
      return records && this.summaries.apply(records);
    } catch (err) {
      this.settings.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'cannot read the anomaly history to resume an event stream; its client is told to read the history',
      );
      return undefined;
    }
  }

  async shutdown(): Promise<void> {
    for (const t of this.timers) t.cancel();
    await this.jobs.stop();
    this.incidents?.tick(this.settings.clock.now());
    if (this.fleet) {
      await this.fleet.close();
      return;
    }
    this.flush(true);
    this.storage.close();
  }

  /** Bounds the learning held for the database while it fails: beyond a limit it is dropped. */
  private limitPending(): void {
    let rows = 0;
    for (const k of this.model.keys()) rows += k.pending.length;
    if (rows <= MAX_PENDING_ROWS) return;
    let samples = 0;
    for (const k of this.model.keys()) {
      for (const r of k.pending) samples += r.m.count;
      k.clearPending();
    }
    this.metrics.droppedItems('learning', samples);
  }

  /** Moves counters kept as plain numbers on the hot path into the metrics. */
  private report(): void {
    const refusedKeys = this.model.refusedKeys;
    if (!this.loggedKeysLimit && refusedKeys > 0) {
      this.loggedKeysLimit = true;
      this.settings.logger.warn(
        { maxKeys: this.config.max_keys },
        'max_keys reached: new keys take the place of cold keys without a baseline (or of services over their share); spans of keys that cannot are forwarded untagged, counted in hourglass_anomaly_dropped_total{reason="keys_limit"} (logged once)',
      );
    }
    if (!this.loggedFutureSpans && this.futureSpans > 0) {
      this.loggedFutureSpans = true;
      this.settings.logger.warn(
        'spans that end more than a day after this clock (a client clock ahead, or a broken end time) are forwarded unscored and not learned, counted in hourglass_anomaly_spans_unscored_total{reason="ends_in_future"} (logged once)',
      );
    }
    this.metrics.report({
      futureSpans: this.futureSpans,
      storageFailures: (this.fleet ?? this.storage).failures,
      refusedKeys,
      evictedKeys: this.model.evictedKeys,
      droppedHistory: this.feed.dropped,
      repeated: this.repeated,
      unchecked: this.recent.unchecked,
      keys: this.model.size,
    });
  }
}
