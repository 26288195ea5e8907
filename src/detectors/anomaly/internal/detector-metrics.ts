import type { Counter, Gauge, Histogram } from 'prom-client';
import type { SelfMetrics } from '../../../telemetry/self-metrics.js';
import { severityName } from './severity.js';

/** Counters the hot path keeps as plain numbers: totals since start. */
export interface HotCounts {
  readonly storageFailures: number;
  readonly refusedKeys: number;
  readonly evictedKeys: number;
  readonly droppedHistory: number;
  readonly repeated: number;
  readonly unchecked: number;
  /** Spans forwarded unscored because they end more than a day ahead of the clock. */
  readonly futureSpans: number;
  /** Keys in memory now. */
  readonly keys: number;
}

const ZERO: HotCounts = {
  storageFailures: 0,
  refusedKeys: 0,
  evictedKeys: 0,
  droppedHistory: 0,
  repeated: 0,
  unchecked: 0,
  futureSpans: 0,
  keys: 0,
};

/**
 * The anomaly processor's own metrics (`hourglass_anomaly_*`, labelled by processor id). Counted
 * per batch or per flush, never per span.
 */
export class DetectorMetrics {
  private readonly tagged: Counter;
  private readonly scoringFailures: Counter;
  private readonly storageFailures: Counter;
  private readonly dropped: Counter;
  private readonly keys: Gauge;
  private readonly flushSeconds: Histogram;
  private readonly recalculations: Counter;
  private readonly repeated: Counter;
  private readonly evicted: Counter;
  private readonly unscored: Counter;
  private readonly labels: { processor: string };
  private readonly bySeverity: { processor: string; severity: string }[];
  private last = ZERO;

  constructor(metrics: SelfMetrics, id: string) {
    this.labels = { processor: id };
    this.bySeverity = [1, 2, 3, 4, 5].map((n) => ({ processor: id, severity: severityName(n) }));
    this.tagged = metrics.counter(
      'hourglass_anomaly_spans_tagged_total',
      'Spans tagged as anomalous, by severity.',
      ['processor', 'severity'],
    );
    this.scoringFailures = metrics.counter(
      'hourglass_anomaly_scoring_failures_total',
      'Batches forwarded untagged because scoring failed.',
      ['processor'],
    );
    this.storageFailures = metrics.counter(
      'hourglass_anomaly_storage_failures_total',
      'Failed opens of or writes to the baseline database.',
      ['processor'],
    );
    this.dropped = metrics.counter(
      'hourglass_anomaly_dropped_total',
      'Learning and history dropped: reason keys_limit (max_keys reached), history (pending anomalies over max_history_pending), history_limit (the oldest recorded anomalies deleted to keep max_history rows), learning (daily rows not written while storage failed).',
      ['processor', 'reason'],
    );
    this.keys = metrics.gauge(
      'hourglass_anomaly_keys',
      'Keys (service, operation, kind) with a baseline in memory.',
      ['processor'],
    );
    this.flushSeconds = metrics.histogram(
      'hourglass_anomaly_flush_duration_seconds',
      'Time to write one flush interval of learning to SQLite.',
      ['processor'],
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    );
    this.recalculations = metrics.counter(
      'hourglass_anomaly_recalculations_total',
      'Threshold recalculations, by result.',
      ['processor', 'result'],
    );
    this.repeated = metrics.counter(
      'hourglass_anomaly_repeated_spans_total',
      'Spans that came back carrying anomaly attributes: not_learned (seen within the flush interval, not learned again), unchecked (the bounded memory of recent span ids was full).',
      ['processor', 'result'],
    );
    this.unscored = metrics.counter(
      'hourglass_anomaly_spans_unscored_total',
      'Spans forwarded without scoring or learning: reason ends_in_future (the span ends more than a day after the sidecar clock: wrong timestamps).',
      ['processor', 'reason'],
    );
    this.evicted = metrics.counter(
      'hourglass_anomaly_keys_evicted_total',
      'Keys forgotten with their stored rows: max_keys (a cold key without a baseline, or of a service over its share, made room for a new key), idle (no baseline and no span today or yesterday).',
      ['processor', 'reason'],
    );
  }

  /** Adds what the hot-path counters gained since the last report. */
  report(now: HotCounts): void {
    const last = this.last;
    this.storageFailed(now.storageFailures - last.storageFailures);
    this.droppedItems('keys_limit', now.refusedKeys - last.refusedKeys);
    this.droppedItems('history', now.droppedHistory - last.droppedHistory);
    this.evictedKeys('max_keys', now.evictedKeys - last.evictedKeys);
    this.repeatedSpans('not_learned', now.repeated - last.repeated);
    this.repeatedSpans('unchecked', now.unchecked - last.unchecked);
    const future = now.futureSpans - last.futureSpans;
    if (future > 0) this.unscored.inc({ ...this.labels, reason: 'ends_in_future' }, future);
    this.keyCount(now.keys);
    this.last = now;
  }

  evictedKeys(reason: 'max_keys' | 'idle', n: number): void {
    if (n > 0) this.evicted.inc({ ...this.labels, reason }, n);
  }

  repeatedSpans(result: 'not_learned' | 'unchecked', n: number): void {
    if (n > 0) this.repeated.inc({ ...this.labels, result }, n);
  }

  taggedSpans(counts: Uint32Array): void {
    for (let s = 1; s <= 5; s++)
      if (counts[s]! > 0) this.tagged.inc(this.bySeverity[s - 1]!, counts[s]);
  }

  scoringFailed(): void {
    this.scoringFailures.inc(this.labels);
  }

  storageFailed(n: number): void {
    if (n > 0) this.storageFailures.inc(this.labels, n);
  }

  droppedItems(reason: 'keys_limit' | 'history' | 'history_limit' | 'learning', n: number): void {
    if (n > 0) this.dropped.inc({ ...this.labels, reason }, n);
  }

  keyCount(n: number): void {
    this.keys.set(this.labels, n);
  }

  flushed(seconds: number): void {
    this.flushSeconds.observe(this.labels, seconds);
  }

  recalculated(result: 'ok' | 'failed'): void {
    this.recalculations.inc({ ...this.labels, result });
  }
}
