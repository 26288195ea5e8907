import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setImmediate as yieldToTraffic } from 'node:timers/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Clock } from '../../../component/clock.js';
import type { AnomalyProcessorConfig } from '../config.js';
import type { AnomalyFeed } from './anomaly-feed.js';
import type { CountQuery, CountRow } from './anomaly-counts.js';
import type { AnomalyQuery, AnomalyRecord } from './anomaly-record.js';
import type { ReplayFilter } from './history-replay.js';
import type { BaselineModel } from './baseline-model.js';
import { staleKeys } from './baseline-sync.js';
import type { DetectorMetrics } from './detector-metrics.js';
import type { JobQueue } from './job-queue.js';
import type { KeyState, PendingRow } from './key-state.js';
import { levelsDue, levelsWritten, resumeLevels } from './level-saves.js';
import { mergeIntoSlot, slotMoments } from './moments.js';
import type { PendingSummaries } from './pending-summaries.js';
import { recalculate, type RecalcReport } from './recalculate.js';
import { SLOT_COUNT, slotsOfBucket } from './slots.js';
import type { SlotThresholds } from './thresholds.js';
import { bucketOfDayHour, type TimeBuckets } from './time-buckets.js';
import { R_STRIDE, RATE_BUCKETS, RateState, type RatePendingRow } from './rates/rate-state.js';
import type { KeyRow, MomentRow } from './store/threshold-store.js';
import {
  logCovers,
  RATE_COLUMNS,
  snapshotXmin,
  type Queryable,
  type RateRow,
} from './store/pg-changes.js';
import { createPool, redactUrl } from './store/pg-connect.js';
import { migrate, PG_SCHEMA_VERSION } from './store/pg-schema.js';
import { keyName, PgStore } from './store/pg-store.js';
import type { FleetIncidents } from '../incidents/fleet-incidents.js';

/** Learning held for the database while it is down, in daily rows; beyond it, dropped and counted. */
const MAX_PENDING_ROWS = 200_000;
const REBUILD_BATCH = 256;
/** How long a recalculation asked for waits for another instance's to end. */
const RECALC_WAIT_MS = 120_000;

export interface FleetContext {
  readonly model: BaselineModel;
  readonly buckets: TimeBuckets;
  readonly config: AnomalyProcessorConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: DetectorMetrics;
  readonly feed: AnomalyFeed;
  readonly jobs: JobQueue;
  readonly summaries: PendingSummaries;
  /** `[sev5 .. sev1]` as fractions, for the point and the level thresholds. */
  readonly percentiles: { readonly point: readonly number[]; readonly level: readonly number[] };
  /** The schema version this instance runs (a test stands for the previous release with 1). */
  readonly schemaVersion?: number | undefined;
  /** Whether the error or traffic detector runs: the fleet's rates are read into the keys. */
  readonly learnsRates?: () => boolean;
  /** The incidents shared in the database (schema 6); undefined when incidents are off. */
  readonly incidents?: FleetIncidents | undefined;
}

/**
 * The processor's side of a fleet sharing one PostgreSQL database (`storage: postgres://...`).
 * Never on the traffic path: each flush is an asynchronous transaction writing this instance's
 * learning as its own rows; then the keys other instances changed since the last flush are read
 * back merged, so every instance scores against the fleet's window. A new instance starts from the
 * fleet's baselines and thresholds. While the database is slow or down, scoring goes on from
 * memory, learning is held (bounded) and written when it is back, the outage is logged once and
 * every failed attempt counted. One recalculation runs per schedule for the fleet (a claimed row
 * and an advisory lock); retention runs under a lock of its own.
 */
export class FleetSync {
  readonly label: string;
  readonly instance: string;
  /** Failed connections and writes (read by the metrics). */
  failures = 0;
  /**
   * What the flushes read of the other instances' learning, since the start: change-log rows
   * merged in, keys read whole (new here or changed by an older release), and whole windows read
   * (the start, each new day, a reader that fell behind the log's pruning).
   */
  readonly followed = { changes: 0, wholeKeys: 0, windows: 0 };
  private readonly pool: pg.Pool;
  private store: PgStore | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private refreshQueued = false;
  /** Schema 4: the snapshot the change log was last read at; older: its xmin. */
  private since: string | undefined;
  /** Keys given their database id by a flush: read whole at the next follow (others' history). */
  private readonly fresh = new Set<number>();
  private generation = -1;
  private day = Number.NaN;
  private failing = false;
  private closed = false;
  /** Set by `close`: the last flush writes every changed level. */
  private closing = false;
  /** Stored thresholds per key id, as last read or computed (the admin API's profile). */
  private readonly stored = new Map<number, SlotThresholds[]>();

  constructor(private readonly c: FleetContext) {
    const pgc = c.config.postgres;
    this.label = redactUrl(c.config.storage);
    this.instance = pgc.instance ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.pool = createPool(
      {
        url: c.config.storage,
        passwordFile: pgc.password_file,
        caFile: pgc.ca_file,
        timeoutMs: pgc.timeout,
      },
      (err) => this.fail(err, 'a connection to the shared baseline database failed'),
    );
  }

  get available(): boolean {
    return this.store !== undefined && !this.failing;
  }

  /** Connects, migrates and loads the fleet's window and thresholds; failures only log. */
  async start(): Promise<void> {
    await this.run();
  }

  /** The timer's flush: skipped while one is still running (a slow database waits for no one). */
  tick(): void {
    if (!this.running) void this.run();
  }

  /**
   * Writes what was learned and tagged since the last flush, then follows the other instances;
   * when a flush is running, waits for it and flushes once more.
   */
  flush(): Promise<void> {
    if (!this.running) return this.run();
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.flush();
    });
    return this.queued;
  }

  /** Recalculates thresholds for the fleet. `scheduledAt`: the schedule's run, claimed once. */
  async recalc(
    keyIds: number[] | undefined,
    scheduledAt?: number,
  ): Promise<RecalcReport | undefined> {
    await this.flush();
    const store = this.store;
    if (!store) throw new Error(`the shared baseline database ${this.label} is not available`);
    const { config, clock, metrics, model, logger } = this.c;
    const now = clock.now();
    if (scheduledAt !== undefined && !(await store.claimRecalculation(scheduledAt, now))) {
      return undefined; // another instance runs this night's recalculation
    }
    try {
      // Asked for (all keys, not by the schedule): waits for another instance's pass to end.
      const waitMs = keyIds === undefined && scheduledAt === undefined ? RECALC_WAIT_MS : 0;
      const report = await store.withLock(
        'recalculation',
        () =>
          recalculate(store, {
            sinceDay: this.sinceDay(),
            keyIds,
            percentiles: this.c.percentiles.point,
            minSamples: config.min_samples,
            now,
            timeZone: config.timezone,
            pause: () => yieldToTraffic(),
            onKey: (row, _window, slots) => {
              this.stored.set(row.id, slots);
              // The window's moments are kept by the flushes; only thresholds are installed here.
              const key = model.withId(row.id) ?? model.get(row.service, row.operation, row.kind);
              key?.setThresholds(slots);
              key?.level.recompute(this.c.percentiles.level);
            },
          }),
        waitMs,
      );
      if (report === undefined) {
        if (keyIds === undefined && scheduledAt === undefined) {
          throw new Error('another instance of the fleet is recalculating; retry in a moment');
        }
        return undefined;
      }
      this.generation = await store.generation('thresholds');
      if (keyIds === undefined) {
        metrics.recalculated('ok');
        logger.info(
          {
            keys: report.keys,
            changed: report.changed,
            durationMs: report.duration_ms,
            instance: this.instance,
          },
          'thresholds recalculated for the fleet',
        );
      }
      return report;
    } catch (err) {
      if (keyIds === undefined) metrics.recalculated('failed');
      throw err;
    }
  }

  /** The thresholds stored for a key (as last read from the database). */
  storedThresholds(keyId: number): SlotThresholds[] {
    return this.stored.get(keyId) ?? [];
  }

  /** The fleet's anomaly history (every instance's). */
  history(q: AnomalyQuery): Promise<AnomalyRecord[]> {
    return this.store ? this.store.history(q) : Promise.resolve([]);
  }

  /** This instance's anomalies published after `seq` (PgStore.after); undefined while offline. */
  after(
    seq: number,
    known: boolean,
    q: ReplayFilter,
    limit: number,
  ): Promise<AnomalyRecord[] | undefined> {
    return this.store ? this.store.after(seq, known, q, limit) : Promise.resolve(undefined);
  }

  counts(q: CountQuery): Promise<CountRow[]> {
    return this.store ? this.store.counts(q) : Promise.resolve([]);
  }

  /** Writes what is pending (one last try) and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await this.flush().catch(() => undefined);
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }

  private run(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running = (async () => {
      if (!this.store && !(await this.connect())) return this.limitPending();
      await this.write();
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async connect(): Promise<boolean> {
    const { logger, clock } = this.c;
    try {
      const client = await this.pool.connect();
      let version: number;
      try {
        version = Math.min(
          await migrate(client, this.c.schemaVersion),
          this.c.schemaVersion ?? PG_SCHEMA_VERSION,
        );
      } finally {
        client.release();
      }
      const store = new PgStore(this.pool, this.instance, version);
      await store.register(clock.now());
      await this.load(store);
      if (this.c.incidents) this.c.incidents.shared = version >= 6;
      this.store = store;
      if (this.failing)
        logger.info({ storage: this.label }, 'the shared baseline database is usable again');
      this.failing = false;
      return true;
    } catch (err) {
      this.fail(err, 'cannot reach the shared baseline database; detection continues from memory');
      return false;
    }
  }

  /** Reads the fleet's window and thresholds into memory (a new instance starts from them). */
  private async load(store: PgStore): Promise<void> {
    const now = this.c.clock.now();
    this.day = this.c.buckets.day(now);
    await this.retention(store, now);
    if (store.version >= 4) {
      await this.readWhole(store);
    } else {
      // The snapshot first: whatever commits after it is read again at the next flush.
      this.since = (await store.changedKeys(undefined)).next;
      const keys = await store.keys();
      await this.rebuild(store, keys);
    }
    await this.reloadThresholds(store);
    resumeLevels(this.c.model, await store.levels(), now);
    this.c.model.firstLevels(this.c.percentiles.level);
    const incidents = this.c.incidents && (await store.incidents(this.c.incidents.liveAt(now)));
    if (incidents) this.c.incidents!.loaded(incidents, now);
  }

  /** One flush: this instance's rows and anomalies in one transaction, then follow the fleet. */
  private async write(): Promise<void> {
    const store = this.store!;
    const { model, feed, summaries, clock, metrics } = this.c;
    const started = performance.now();
    const now = clock.now();
    const taken: [KeyState, PendingRow[]][] = [];
    for (const k of model.keys()) {
      if (k.pending.length === 0) continue;
      taken.push([k, k.pending]);
      k.pending = [];
    }
    const rateTaken: [KeyState, RatePendingRow[]][] = [];
    for (const k of model.keys()) {
      const r = k.rates;
      if (!r || r.pending.length === 0) continue;
      // A database of an older schema has no error and traffic rows: they stay in memory only.
      if (store.version >= 5) rateTaken.push([k, r.pending]);
      r.pending = [];
    }
    const anomalies = [...feed.unflushed()];
    const notes = summaries.entries();
    const shared = store.version >= 6 ? this.c.incidents : undefined;
    const incidents = shared && { batch: shared.take(now), since: shared.since };
    const levels = store.version >= 7 ? levelsDue(model, now, this.closing) : [];
    try {
      const missing = [...new Set([...taken, ...rateTaken].map(([k]) => k))].filter(
        (k) => k.id === undefined,
      );
      if (missing.length > 0) {
        const ids = await store.ensureKeys(missing);
        for (const k of missing) {
          const id = ids.get(keyName(k));
          if (id !== undefined && model.get(k.service, k.operation, k.kind) === k) {
            model.setId(k, id);
            this.fresh.add(id);
          }
        }
      }
      const learning = taken
        .filter(([k]) => k.id !== undefined)
        .map(([k, rows]) => ({
          service: k.service,
          operation: k.operation,
          kind: k.kind,
          id: k.id!,
          rows,
        }));
      const rates = rateTaken
        .filter(([k]) => k.id !== undefined)
        .flatMap(([k, rows]) => rows.map((r) => ({ id: k.id!, dayHour: r.dayHour, v: r.v })));
      const result = await store.write({
        learning,
        rates,
        anomalies,
        summaries: notes,
        ...(incidents ? { incidents } : {}),
        levels,
        now,
      });
      levelsWritten(levels);
      feed.flushedRecords(new Set(anomalies));
      summaries.flushed(result.summarized, notes);
      if (incidents && result.incidents) shared.written(incidents.batch, result.incidents, now);
      metrics.flushed((performance.now() - started) / 1000);
      if (this.failing)
        this.c.logger.info({ storage: this.label }, 'the shared baseline database is usable again');
      this.failing = false;
    } catch (err) {
      // Nothing was written: the rows go back in front of what was learned meanwhile.
      for (const [k, rows] of taken) k.pending = rows.concat(k.pending);
      for (const [k, rows] of rateTaken) k.rates!.pending = rows.concat(k.rates!.pending);
      shared?.failed();
      this.fail(
        err,
        'writing to the shared baseline database failed; learning is kept and written when it is back',
      );
      this.limitPending();
      return;
    }
    try {
      await this.follow(store, now);
    } catch (err) {
      this.fail(err, "reading the fleet's baselines failed; will retry at the next flush");
    }
  }

  /** After a write: the window roll, other instances' learning and thresholds, first levels. */
  private async follow(store: PgStore, now: number): Promise<void> {
    const { model, buckets, percentiles } = this.c;
    const today = buckets.day(now);
    if (store.version >= 4) {
      await this.followLog(store, today, now);
    } else if (today !== this.day) {
      this.day = today;
      await this.retention(store, now);
      this.since = (await store.changedKeys(undefined)).next;
      await this.rebuild(store, await store.keys());
    } else {
      const changed = await store.changedKeys(this.since);
      this.since = changed.next;
      if (changed.ids.length > 0) await this.rebuild(store, await store.keys(changed.ids));
    }
    if ((await store.generation('thresholds')) !== this.generation)
      await this.reloadThresholds(store);
    model.firstLevels(percentiles.level);
    this.refreshGrown(now);
  }

  /**
   * Keys whose history doubled since their thresholds were computed, or whose current bucket
   * reached min_samples since: recalculated in the background, as a single processor does
   * (baseline-sync.ts); an instance that finds the lock taken leaves them to the next flush.
   */
  private refreshGrown(now: number): void {
    if (this.refreshQueued) return;
    const { model, config, buckets, jobs } = this.c;
    const stale = staleKeys(model, bucketOfDayHour(buckets.dayHour(now)), config.min_samples);
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

  /**
   * Schema 4: merges into the window what the other instances learned since the last snapshot, read
   * from the change log, each change once; keys new here or changed by an older release are read
   * whole, and everything is when the day rolled or the log no longer reaches back that far.
   */
  private async followLog(store: PgStore, today: number, now: number): Promise<void> {
    if (today !== this.day || this.since === undefined) {
      this.day = today;
      await this.retention(store, now);
      await this.readWhole(store);
      return;
    }
    const since = this.since;
    const sinceDay = this.sinceDay();
    const fresh = [...this.fresh];
    const read = await store.reading(async (db, snapshot) => {
      if (!logCovers(since, snapshot)) return { snapshot, changes: undefined, whole: 0 };
      const { changes, rates, unlogged } = await store.changes(db, since, sinceDay);
      const whole = new Set([...unlogged, ...fresh]);
      for (const c of [...changes, ...rates]) {
        if (!this.c.model.withId(c.key_id)) whole.add(c.key_id);
      }
      if (whole.size > 0) await this.rebuild(store, await store.keys([...whole], db), db);
      return {
        snapshot,
        changes: changes.filter((c) => !whole.has(c.key_id)),
        rates: rates.filter((c) => !whole.has(c.key_id)),
        whole: whole.size,
      };
    });
    if (read.changes === undefined) {
      await this.readWhole(store); // fell behind the log's pruning
      return;
    }
    // Merged only once the snapshot's transaction committed, and `since` moved with them.
    this.mergeChanges(read.changes, read.rates);
    this.since = read.snapshot.text;
    for (const id of fresh) this.fresh.delete(id);
    this.followed.changes += read.changes.length + read.rates.length;
    this.followed.wholeKeys += read.whole;
    await store.acknowledge(snapshotXmin(read.snapshot.text));
  }

  /** Reads the fleet's whole window in one snapshot, where the change log is read from next. */
  private async readWhole(store: PgStore): Promise<void> {
    const read = await store.reading(async (db, snapshot) => {
      const keys = await store.keys(undefined, db);
      await this.rebuild(store, keys, db);
      return snapshot;
    });
    this.since = read.text;
    this.fresh.clear();
    this.followed.windows++;
    await store.acknowledge(snapshotXmin(read.text));
  }

  /** Other instances' logged learning, into the slots of its (day, hour). */
  private mergeChanges(changes: readonly MomentRow[], rates: readonly RateRow[]): void {
    const { model } = this.c;
    for (const c of changes) {
      const key = model.withId(c.key_id);
      if (!key) continue; // evicted since: read whole when it is back (a fresh id)
      for (const slot of slotsOfBucket(bucketOfDayHour(c.day * 24 + c.hour))) {
        mergeIntoSlot(key.m, slot, c.count, c.mean, c.m2);
      }
    }
    if (!this.learnsRates()) return;
    for (const c of rates) {
      const key = model.withId(c.key_id);
      if (!key) continue;
      const v = RATE_COLUMNS.map((name) => c[name]);
      (key.rates ??= new RateState()).mergeStats(bucketOfDayHour(c.day * 24 + c.hour), v);
    }
  }

  private learnsRates(store: PgStore | undefined = this.store): boolean {
    return store !== undefined && store.version >= 5 && (this.c.learnsRates?.() ?? false);
  }

  /** Installs the fleet's window moments of `keys` (plus this instance's unwritten learning). */
  private async rebuild(store: PgStore, keys: readonly KeyRow[], db?: Queryable): Promise<void> {
    const sinceDay = this.sinceDay();
    for (let i = 0; i < keys.length; i += REBUILD_BATCH) {
      const part = keys.slice(i, i + REBUILD_BATCH);
      const rows = await store.momentRows(
        sinceDay,
        part.map((k) => k.id),
        db,
      );
      const rates = this.learnsRates(store)
        ? await store.rateRows(
            sinceDay,
            part.map((k) => k.id),
            db,
          )
        : undefined;
      for (const row of part) {
        const window = slotMoments(SLOT_COUNT);
        for (const r of rows.get(row.id) ?? []) {
          for (const slot of slotsOfBucket(bucketOfDayHour(r.day * 24 + r.hour))) {
            mergeIntoSlot(window, slot, r.count, r.mean, r.m2);
          }
        }
        const key = this.install(row, window);
        if (key && rates) installRates(key, rates.get(row.id) ?? []);
      }
      await yieldToTraffic();
    }
  }

  private install(row: KeyRow, window: Float64Array): KeyState | undefined {
    const { model } = this.c;
    const key =
      model.withId(row.id) ??
      model.get(row.service, row.operation, row.kind) ??
      model.key(row.service, row.operation, row.kind);
    if (!key) return undefined;
    if (key.id !== row.id) model.setId(key, row.id);
    key.replaceMoments(window);
    const stored = this.stored.get(row.id);
    if (stored && key.refreshedAt === 0) key.setThresholds(stored);
    return key;
  }

  private async reloadThresholds(store: PgStore): Promise<void> {
    this.generation = await store.generation('thresholds');
    const all = await store.thresholds();
    this.stored.clear();
    for (const [id, slots] of all) this.stored.set(id, slots);
    for (const key of this.c.model.keys()) {
      if (key.id !== undefined) key.setThresholds(all.get(key.id) ?? []);
    }
  }

  /** Retention for the fleet, by whichever instance holds the lock (it is idempotent). */
  private async retention(store: PgStore, now: number): Promise<void> {
    const { config, logger } = this.c;
    const removed = await store.withLock('retention', () =>
      store.retention(
        this.sinceDay(),
        now - config.history_retention,
        { before: now - config.incidents.retention, maxStored: config.incidents.max_stored },
        now,
        config.max_history,
      ),
    );
    if (removed && (removed.rows > 0 || removed.anomalies > 0 || removed.incidents > 0)) {
      logger.info(removed, "retention: removed the fleet's old daily rows and anomalies");
    }
  }

  private sinceDay(): number {
    return this.c.buckets.day(this.c.clock.now()) - this.c.config.window_days + 1;
  }

  /** Bounds the learning held while the database fails: beyond a limit it is dropped, counted. */
  private limitPending(): void {
    let rows = 0;
    for (const k of this.c.model.keys()) rows += k.pending.length + (k.rates?.pending.length ?? 0);
    if (rows <= MAX_PENDING_ROWS) return;
    let samples = 0;
    for (const k of this.c.model.keys()) {
      for (const r of k.pending) samples += r.m.count;
      k.pending = [];
      if (k.rates) k.rates.pending = [];
    }
    this.c.metrics.droppedItems('learning', samples);
  }

  private fail(err: unknown, message: string): void {
    this.failures++;
    if (this.failing) return;
    this.failing = true;
    this.c.logger.error({ err: safeError(err), storage: this.label }, message);
  }
}

/** The fleet's error and traffic window of a key (plus its unwritten learning), per dow_hour. */
function installRates(key: KeyState, rows: readonly RateRow[]): void {
  if (rows.length === 0 && key.rates === undefined) return;
  const window = new Float64Array(RATE_BUCKETS * R_STRIDE);
  for (const r of rows) {
    const at = bucketOfDayHour(r.day * 24 + r.hour) * R_STRIDE;
    for (let k = 0; k < R_STRIDE; k++) window[at + k]! += r[RATE_COLUMNS[k]!];
  }
  (key.rates ??= new RateState()).replaceStats(window, bucketOfDayHour);
}

/** The error without anything that could carry the password (pg errors do not; URLs might). */
function safeError(err: unknown): { message: string; code?: string } {
  const e = err as { message?: unknown; code?: unknown };
  const message =
    typeof e?.message === 'string' ? e.message.replace(/\/\/[^@/\s]*@/g, '//***@') : String(err);
  return typeof e?.code === 'string' ? { message, code: e.code } : { message };
}
