import { hexAt, indexSpans } from '../../../otlp/trace-index.js';
import { BaselineModel } from '../internal/baseline-model.js';
import { KeyForm } from '../internal/key-form.js';
import { BaselineStore } from '../internal/store/baseline-store.js';
import { bucketOfDayHour, TimeBuckets } from '../internal/time-buckets.js';
import { pendingWritten, writePending } from '../internal/write-pending.js';

export interface SeedOptions {
  readonly timeZone: string;
  readonly windowDays: number;
  readonly learnErrors: boolean;
  /** The processor's `key_attributes`: keys are formed as it forms them. */
  readonly keyAttributes: readonly string[];
  /** The processor's `max_keys`: spans of further keys are not learned (counted). */
  readonly maxKeys: number;
  /** The current time: spans older than the window (or in the future) are skipped. */
  readonly now: number;
}

export interface SeedCounts {
  spans: number;
  learned: number;
  /** Skipped: outside the window, without a positive duration, errors, or seen before. */
  outsideWindow: number;
  noDuration: number;
  errors: number;
  duplicates: number;
  /** Spans of keys beyond `max_keys`. */
  keysLimit: number;
}

const FLUSH_EVERY = 100_000;

/** A store written asynchronously (a fleet's PostgreSQL database: `FleetSeed`). */
export interface SeedWriter {
  /** Writes the model's pending learning and takes it. */
  write(model: BaselineModel, now: number): Promise<void>;
}
const MAX_REMEMBERED_IDS = 5_000_000;

/**
 * Seeds baselines from historical spans (`hourglass backfill`): each span's duration goes into
 * the daily row of its key, local day and hour, exactly as the processor would have learned it,
 * and is written to the same SQLite file. The same span seen twice (overlapping Jaeger queries,
 * the same file given twice) is learned once.
 */
export class Seeder {
  private readonly model: BaselineModel;
  private readonly keyForm: KeyForm;
  private readonly buckets: TimeBuckets;
  private readonly seen = new Set<string>();
  private unflushed = 0;
  readonly counts: SeedCounts = {
    spans: 0,
    learned: 0,
    outsideWindow: 0,
    noDuration: 0,
    errors: 0,
    duplicates: 0,
    keysLimit: 0,
  };

  constructor(
    /** A SQLite file's store (written in the seeder's own transactions), or a writer. */
    private readonly store: BaselineStore | SeedWriter,
    private readonly options: SeedOptions,
  ) {
    this.buckets = new TimeBuckets(options.timeZone);
    this.model = new BaselineModel(options.maxKeys);
    this.keyForm = new KeyForm(options.keyAttributes);
  }

  /** Learns the spans of one encoded ExportTraceServiceRequest. */
  add(bytes: Uint8Array): void {
    const index = indexSpans(bytes);
    for (const span of index.spans) {
      this.learn(
        index.resources[span.resource]!.serviceName,
        this.keyForm.operation(bytes, span),
        span.kind,
        span.startMs,
        span.durationMs,
        span.statusCode,
        hexAt(bytes, span.traceIdAt, 16) + hexAt(bytes, span.spanIdAt, 8),
      );
    }
  }

  /**
   * Learns one span of key (`service`, `operation` as the processor forms it, `kind`); `hourglass
   * replay` learns its history this way. Skipped when it has no positive duration, is an error
   * (unless learn_from_errors), lies outside the window, its `id` (trace and span id) was learned
   * before, or its key would pass max_keys.
   */
  learn(
    service: string,
    operation: string,
    kind: number,
    startMs: number,
    durationMs: number,
    statusCode: number,
    id: string,
  ): void {
    const c = this.counts;
    c.spans++;
    if (!(durationMs > 0) || !(startMs > 0)) {
      c.noDuration++;
      return;
    }
    if (!this.options.learnErrors && statusCode === 2) {
      c.errors++;
      return;
    }
    const today = this.buckets.day(this.options.now);
    const dayHour = this.buckets.dayHour(startMs);
    const day = Math.floor(dayHour / 24);
    if (day < today - this.options.windowDays + 1 || day > today) {
      c.outsideWindow++;
      return;
    }
    if (this.seen.has(id)) {
      c.duplicates++;
      return;
    }
    const key = this.model.key(service, operation, kind);
    if (!key) {
      c.keysLimit++;
      return;
    }
    if (this.seen.size >= MAX_REMEMBERED_IDS) this.seen.clear();
    this.seen.add(id);
    key.learn(dayHour, bucketOfDayHour(dayHour), durationMs);
    c.learned++;
    if (++this.unflushed >= FLUSH_EVERY && this.store instanceof BaselineStore) this.flush();
  }

  /** Enough learned to write (a writer's caller awaits `write` when it is). */
  get due(): boolean {
    return this.unflushed >= FLUSH_EVERY;
  }

  /** Writes what was learned, to either store. */
  async write(): Promise<void> {
    if (this.store instanceof BaselineStore) return this.flush();
    if (this.unflushed === 0) return;
    await this.store.write(this.model, this.options.now);
    this.unflushed = 0;
  }

  /** Writes what was learned to SQLite (one transaction) and tells running sidecars to reload. */
  flush(): void {
    const store = this.store;
    if (this.unflushed === 0 || !(store instanceof BaselineStore)) return;
    const w = store.transaction(() => {
      const written = writePending(store, this.model);
      store.bumpGeneration('baselines');
      return written;
    });
    pendingWritten(this.model, w);
    this.unflushed = 0;
  }

  get keys(): number {
    return this.model.size;
  }
}
