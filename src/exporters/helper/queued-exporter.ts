import { join } from 'node:path';
import type { Timer } from '../../component/clock.js';
import type { Exporter } from '../../component/component.js';
import { ITEM_NAME, type OtlpBatch, type Signal } from '../../component/consumer.js';
import {
  PermanentError,
  RefusedError,
  UnavailableError,
  errorMessage,
} from '../../component/errors.js';
import type { CreateSettings } from '../../component/factory.js';
import type { ExporterMetrics } from '../../telemetry/self-metrics.js';
import type { ExporterHelperConfig } from './config.js';
import { ExportLog } from './export-log.js';
import { permanent, type ExportResult } from './export-result.js';
import { MemoryQueue } from './memory-queue.js';
import { PersistentQueue } from './persistent-queue.js';
import { mergeEntries, type BatchQueue, type QueueEntry } from './queue.js';
import { retrying } from './retry.js';
import { notRunning } from './not-running.js';
import type { ExportTransport } from './transport.js';

/**
 * The Collector's exporterhelper: turns a transport that makes single attempts into an exporter
 * with a bounded sending queue (in memory or on disk), consumers that merge queued batches into
 * larger exports, retries with backoff, self-metrics and quiet logging.
 *
 * With a queue, `consume()` resolves once the batch is queued (on disk for a persistent queue) and
 * rejects with `RefusedError` when the queue is full. Without one, it exports at once, with
 * retries, and rejects with `UnavailableError` or `PermanentError` when that fails.
 *
 * `shutdown()` stops taking data, cuts retry waits short and gives what is queued one attempt each,
 * for at most `timeout` (then the attempts under way finish, each bounded by `timeout`); it stops
 * early if the downstream fails. A persistent queue keeps what is left for the next start; an
 * in-memory one drops it, counted and logged once.
 */
export class QueuedExporter implements Exporter {
  private transport: ExportTransport | undefined;
  private queue: BatchQueue | undefined;
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private readonly drain = new AbortController();
  private stopTaking = false;
  private consumers: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly metrics: ExporterMetrics;
  private log: ExportLog | undefined;
  /** Batches not exported by the end of the drain: kept on disk, or dropped (in memory). */
  private readonly leftover = { batches: 0, items: 0 };
  private shutdownPromise: Promise<void> | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly signal: Signal,
    private readonly config: ExporterHelperConfig,
    private readonly makeTransport: () => ExportTransport,
    /** The setting that names the destination (`endpoint`): the first failure names it. */
    private readonly endpointSetting?: string,
  ) {
    this.metrics = settings.metrics.exporter(settings.id, signal);
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`exporter ${this.settings.id} already started`);
    const transport = this.makeTransport();
    const q = this.config.sending_queue;
    this.transport = transport;
    const setting = this.endpointSetting;
    this.log = new ExportLog(
      this.settings.logger,
      transport.endpoint,
      q.enabled,
      ITEM_NAME[this.signal],
      setting === undefined ? undefined : (this.settings.settingToChange?.(setting) ?? setting),
    );
    if (q.enabled) {
      const queue = q.storage
        ? new PersistentQueue(
            join(q.storage, this.settings.id.replace('/', '-'), this.signal),
            q.queue_size,
            this.signal,
            this.settings.logger,
          )
        : new MemoryQueue(q.queue_size);
      await queue.open();
      this.queue = queue;
      this.metrics.queueCapacity(q.queue_size);
      this.metrics.queueSize(queue.held());
      for (let i = 0; i < q.num_consumers; i++) this.consumers.push(this.consumeLoop(queue));
    }
    this.state = 'running';
  }

  consume(batch: OtlpBatch): Promise<void> {
    if (this.state !== 'running') {
      return Promise.reject(notRunning(this.settings.id, this.state));
    }
    const work = this.queue ? this.enqueue(this.queue, batch) : this.sendNow(batch);
    const tracked = work.catch(() => undefined);
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return work;
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.stop();
    return this.shutdownPromise;
  }

  private async enqueue(queue: BatchQueue, batch: OtlpBatch): Promise<void> {
    let queued: boolean;
    try {
      queued = await queue.offer(batch);
    } catch (err) {
      this.metrics.enqueueFailed(batch.items);
      this.log!.once('storage', 'error', { error: errorMessage(err) }, errorMessage(err));
      throw new UnavailableError(errorMessage(err), this.config.retry_on_failure.initial_interval, {
        cause: err,
      });
    }
    if (!queued) {
      this.metrics.enqueueFailed(batch.items);
      const message = `the sending queue of exporter ${this.settings.id} is full (${queue.capacity} batches); retry later`;
      this.log!.queueFull(message, queue.capacity);
      throw new RefusedError(message, this.config.retry_on_failure.initial_interval);
    }
    this.metrics.queueSize(queue.held());
  }

  private async sendNow(batch: OtlpBatch): Promise<void> {
    const result = await this.export(batch);
    if (result.type === 'success') return;
    this.dropped(batch, result);
    if (result.type === 'permanent') throw new PermanentError(result.error.message);
    throw new UnavailableError(result.error.message, result.retryAfterMs);
  }

  /** Exports one request with retries; counts what was sent. Failures are the caller's to count. */
  private async export(batch: OtlpBatch): Promise<ExportResult> {
    const { result } = await retrying(
      (n) => this.attempt(batch, n),
      this.config.retry_on_failure,
      this.settings.clock,
      this.drain.signal,
    );
    if (result.type === 'success') {
      this.metrics.sent(batch.items - result.rejected);
      if (result.rejected > 0) {
        this.metrics.sendFailed(result.rejected);
        this.log!.partial(result.rejected, batch.items, result.rejectedMessage);
      }
    }
    return result;
  }

  private async attempt(batch: OtlpBatch, n: number): Promise<ExportResult> {
    let result: ExportResult;
    try {
      result = await this.transport!.send(batch, { n, timeoutMs: this.config.timeout });
    } catch (err) {
      // Transports answer with values; a throw is a bug, and retrying it would not help.
      result = permanent('internal', `internal error while exporting: ${errorMessage(err)}`);
    }
    this.log!.attempt(result);
    // While draining, a failing downstream ends the drain: the rest would fail the same way.
    if (result.type !== 'success' && this.drain.signal.aborted) this.stopTaking = true;
    return result;
  }

  private async consumeLoop(queue: BatchQueue): Promise<void> {
    const maxBytes = this.config.sending_queue.merge_max_bytes;
    while (!this.stopTaking) {
      const entries = await queue.take(maxBytes);
      if (!entries) return;
      try {
        await this.exportEntries(queue, entries);
      } catch (err) {
        // A bug, not a downstream answer (those are values): keep the consumer alive.
        this.log!.once(
          'consumer',
          'error',
          { err },
          'unexpected error in a sending queue consumer',
        );
      }
      this.metrics.queueSize(queue.held());
      if (queue.held() * 2 < queue.capacity) this.log!.queueHasRoom();
    }
  }

  private async exportEntries(queue: BatchQueue, entries: readonly QueueEntry[]): Promise<void> {
    const batch = mergeEntries(entries);
    const result = await this.export(batch);
    if (result.type === 'permanent' && entries.length > 1) {
      // The merge may be what failed (too large, one bad batch): send each batch on its own.
      for (const e of entries) await this.exportEntries(queue, [e]);
      return;
    }
    if (result.type === 'retryable' && this.drain.signal.aborted) {
      // Shutting down: not exported this run. A persistent queue keeps the entries on disk.
      queue.release(entries);
      this.leftover.batches += entries.length;
      this.leftover.items += batch.items;
      return;
    }
    if (result.type !== 'success') this.dropped(batch, result);
    await queue.done(entries);
  }

  /** Counts a batch given up on (and logs the first of each kind). */
  private dropped(batch: OtlpBatch, result: Exclude<ExportResult, { type: 'success' }>): void {
    this.metrics.sendFailed(batch.items);
    // At shutdown, what was not sent is reported once, as leftover.
    if (!this.drain.signal.aborted || result.type === 'permanent') {
      this.log!.dropped(batch.items, result, this.config.retry_on_failure);
    }
  }

  private async stop(): Promise<void> {
    if (this.state === 'created') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.drain.abort();
    let deadline: Timer | undefined;
    const queue = this.queue;
    if (queue) {
      deadline = this.settings.clock.setTimeout(() => {
        this.stopTaking = true;
        queue.close();
      }, this.config.timeout);
    }
    await Promise.all([...this.inFlight]);
    queue?.close();
    await Promise.all(this.consumers);
    deadline?.cancel();
    if (queue) {
      const left = queue.removeWaiting();
      this.leftover.batches += left.batches;
      this.leftover.items += left.items;
      this.metrics.queueSize(0);
      await queue.dispose();
      const { batches, items } = this.leftover;
      if (!queue.persistent) this.metrics.sendFailed(items);
      this.log!.leftover(queue.persistent, batches, items);
    }
    await this.transport?.close();
    this.state = 'stopped';
  }
}
