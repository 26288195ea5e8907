import type { Logger } from 'pino';
import type { Clock, Timer } from '../../component/clock.js';
import type { Processor } from '../../component/component.js';
import {
  JoinedBatch,
  partsOf,
  sizeOf,
  type Consumer,
  type OtlpBatch,
  type Signal,
} from '../../component/consumer.js';
import { RefusedError, errorMessage, isPermanent } from '../../component/errors.js';
import type { CreateSettings } from '../../component/factory.js';
import { splitRequest } from '../../otlp/split.js';
import type { ProcessorMetrics } from '../../telemetry/self-metrics.js';
import type { BatchConfig } from './config.js';

/**
 * The Collector's batch processor: gathers incoming batches and sends them on when
 * `send_batch_size` items are gathered or `timeout` has passed. Merging is a byte concatenation
 * (encoded OTLP requests concatenate into the merged request), so batching costs one copy.
 *
 * Data is acknowledged as soon as it joins the batch, as in the Collector. Unlike the Collector,
 * a batch the next component refuses (a full exporter queue) is not dropped: it is kept and retried,
 * and while held data exceeds `max_pending_items` new data is refused with a retry hint, so
 * backpressure reaches the clients instead of data being lost. Shutdown sends what is held.
 */
export class BatchProcessor implements Processor {
  private parts: Uint8Array[] = [];
  private partItems = 0;
  private partBytes = 0;
  private timer: Timer | undefined;
  /** Sent batches the next component refused, waiting to be retried (oldest first). */
  private readonly retrying: OtlpBatch[] = [];
  private retryTimer: Timer | undefined;
  private retryingItems = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightItems = 0;
  private stopped = false;
  private readonly metrics: ProcessorMetrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private warnedPermanent = false;
  private readonly countTrigger: (trigger: 'size' | 'timeout' | 'shutdown') => void;
  private readonly observeSize: (items: number) => void;

  constructor(
    settings: CreateSettings,
    private readonly config: BatchConfig,
    private readonly signal: Signal,
    private readonly next: Consumer,
  ) {
    this.metrics = settings.metrics.processor(settings.id, signal);
    this.logger = settings.logger;
    this.clock = settings.clock;
    const labels = { processor: settings.id };
    const triggers = {
      size: settings.metrics.counter(
        'otelcol_processor_batch_batch_size_trigger_send_total',
        'Number of times the batch was sent due to a size trigger.',
        ['processor'],
      ),
      timeout: settings.metrics.counter(
        'otelcol_processor_batch_timeout_trigger_send_total',
        'Number of times the batch was sent due to a timeout trigger.',
        ['processor'],
      ),
    };
    this.countTrigger = (t) => {
      if (t !== 'shutdown') triggers[t].inc(labels);
    };
    const sizes = settings.metrics.histogram(
      'otelcol_processor_batch_batch_send_size',
      'Number of items in the batch that was sent.',
      ['processor'],
      [
        10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000,
        10000, 20000, 30000, 50000, 100000,
      ],
    );
    this.observeSize = (n) => sizes.observe(labels, n);
  }

  async start(): Promise<void> {}

  consume(batch: OtlpBatch): Promise<void> {
    if (this.stopped) return this.next.consume(batch);
    this.metrics.incoming(batch.items);
    const held = this.partItems + this.retryingItems + this.inFlightItems;
    if (held > 0 && held + batch.items > this.config.max_pending_items) {
      this.metrics.refused(batch.items);
      return Promise.reject(
        new RefusedError(
          `the batch processor holds ${held} items the next component has not taken yet (max_pending_items ${this.config.max_pending_items})`,
          this.config.timeout + 1000,
        ),
      );
    }
    for (const part of partsOf(batch)) this.parts.push(part);
    this.partItems += batch.items;
    this.partBytes += sizeOf(batch);
    if (this.partItems >= this.config.send_batch_size) {
      this.flush('size');
    } else if (!this.timer) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.flush('timeout');
      }, this.config.timeout);
    }
    return Promise.resolve();
  }

  /** Sends what is gathered now (split to send_batch_max_size when set). */
  private flush(trigger: 'size' | 'timeout' | 'shutdown'): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.partItems === 0) return;
    this.countTrigger(trigger);
    const joined = new JoinedBatch(this.signal, this.parts, this.partItems, this.partBytes);
    const items = this.partItems;
    this.parts = [];
    this.partItems = 0;
    this.partBytes = 0;
    const max = this.config.send_batch_max_size;
    if (max > 0 && items > max) {
      for (const piece of splitRequest(this.signal, joined.bytes, max)) {
        this.send({ signal: this.signal, bytes: piece.bytes, items: piece.items });
      }
    } else {
      this.send(joined);
    }
  }

  private send(batch: OtlpBatch): void {
    this.observeSize(batch.items);
    this.inFlightItems += batch.items;
    const p: Promise<void> = this.next.consume(batch).then(
      () => {
        this.inFlightItems -= batch.items;
        this.inFlight.delete(p);
        this.metrics.outgoing(batch.items);
      },
      (err: unknown) => {
        this.inFlightItems -= batch.items;
        this.inFlight.delete(p);
        this.failed(batch, err);
      },
    );
    this.inFlight.add(p);
  }

  private failed(batch: OtlpBatch, err: unknown): void {
    if (isPermanent(err)) {
      this.metrics.dropped(batch.items);
      if (!this.warnedPermanent) {
        this.warnedPermanent = true;
        this.logger.warn(
          { err: errorMessage(err), items: batch.items },
          'the next component rejected a batch permanently; dropped (counted in otelcol_processor_dropped_*; logged once)',
        );
      }
      return;
    }
    this.retrying.push(batch);
    this.retryingItems += batch.items;
    if (!this.retryTimer && !this.stopped) {
      const wait = err instanceof RefusedError ? err.retryAfterMs : 1000;
      this.retryTimer = this.clock.setTimeout(
        () => this.retry(),
        Math.min(Math.max(wait, 100), 5000),
      );
    }
  }

  private retry(): void {
    this.retryTimer = undefined;
    const batches = this.retrying.splice(0);
    this.retryingItems = 0;
    for (const b of batches) this.send(b);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.flush('shutdown');
    this.retryTimer?.cancel();
    // Waits for sends in flight; refused ones are retried for up to 5 s of wall time (the
    // exporter queues are still draining), so that what was acknowledged reaches the exporters.
    for (let attempt = 0; attempt < 50; attempt++) {
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      if (this.retrying.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
      this.retry();
    }
    if (this.retrying.length > 0) {
      const items = this.retrying.reduce((n, b) => n + b.items, 0);
      this.metrics.dropped(items);
      this.logger.error({ items }, 'shutdown: the next component kept refusing; items dropped');
    }
  }
}
