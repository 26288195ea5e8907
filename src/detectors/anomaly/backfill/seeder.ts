import { hexAt, indexSpans } from '../../../otlp/trace-index.js';
import { BaselineModel } from '../internal/baseline-model.js';
import { KeyForm } from '../internal/key-form.js';
import type { BaselineStore } from '../internal/store/baseline-store.js';
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
    private readonly store: BaselineStore,
    private readonly options: SeedOptions,
  ) {
    this.buckets = new TimeBuckets(options.timeZone);
    this.model = new BaselineModel(options.maxKeys);
    this.keyForm = new KeyForm(options.keyAttributes);
  }

  /** Learns the spans of one encoded ExportTraceServiceRequest. */
  add(bytes: Uint8Array): void {
    const index = indexSpans(bytes);
    const today = this.buckets.day(this.options.now);
    const firstDay = today - this.options.windowDays + 1;
    const c = this.counts;
    for (const span of index.spans) {
      c.spans++;
      if (!(span.durationMs > 0) || !(span.startMs > 0)) {
        c.noDuration++;
        continue;
      }
      if (!this.options.learnErrors && span.statusCode === 2) {
        c.errors++;
        continue;
      }
      const dayHour = this.buckets.dayHour(span.startMs);
      const day = Math.floor(dayHour / 24);
      if (day < firstDay || day > today) {
        c.outsideWindow++;
        continue;
      }
      const id = hexAt(bytes, span.traceIdAt, 16) + hexAt(bytes, span.spanIdAt, 8);
      if (this.seen.has(id)) {
        c.duplicates++;
        continue;
      }
      const service = index.resources[span.resource]!.serviceName;
      const key = this.model.key(service, this.keyForm.operation(bytes, span), span.kind);
      if (!key) {
        c.keysLimit++;
        continue;
      }
      if (this.seen.size >= MAX_REMEMBERED_IDS) this.seen.clear();
      this.seen.add(id);
      key.learn(dayHour, bucketOfDayHour(dayHour), span.durationMs);
      c.learned++;
      if (++this.unflushed >= FLUSH_EVERY) this.flush();
    }
  }

  /** Writes what was learned (one transaction) and tells running sidecars to reload. */
  flush(): void {
    if (this.unflushed === 0) return;
    const w = this.store.transaction(() => {
      const written = writePending(this.store, this.model);
      this.store.bumpGeneration('baselines');
      return written;
    });
    pendingWritten(this.model, w);
    this.unflushed = 0;
  }

  get keys(): number {
    return this.model.size;
  }
}
