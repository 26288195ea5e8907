import type { Logger } from 'pino';
import type { RetryConfig } from './config.js';
import type { ExportPermanent, ExportResult, ExportRetryable } from './export-result.js';

/** Distinct kinds of event remembered for "log the first of a kind"; more are just counted. */
const MAX_KINDS = 256;
const EXHAUSTED = 'exhausted';
const QUEUE_FULL = 'queue-full';

/**
 * Everything an exporter says about its downstream, never per batch. When the downstream becomes
 * unreachable it warns once (with the endpoint, and what happens to the data meanwhile); when an
 * export succeeds again it says so once, with the number of failed attempts in between. Other
 * events (permanent rejections, drops, partial successes, a full queue) are logged the first time
 * each kind happens; the self-metrics count the rest.
 */
export class ExportLog {
  private failedAttempts = 0;
  private readonly kinds = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly endpoint: string,
    private readonly queued: boolean,
    /** `spans`, `metric_points` or `log_records`. */
    private readonly item: string,
    /** The setting that decides the destination (`JAEGER_OTLP_ENDPOINT (exporters...endpoint)`). */
    private readonly setting?: string,
  ) {}

  /** Records one attempt's result. */
  attempt(result: ExportResult): void {
    if (result.type === 'retryable') {
      if (this.failedAttempts++ === 0) {
        const error = result.error.message;
        const elsewhere =
          this.setting === undefined ? '' : `; if it is elsewhere, set ${this.setting}`;
        this.logger.warn(
          { endpoint: this.endpoint, reason: result.reason, error },
          this.queued
            ? `cannot export to ${this.endpoint}: ${error}; data is kept in the sending queue and retried until the downstream is back${elsewhere}`
            : `cannot export to ${this.endpoint}: ${error}; requests are retried, then refused upstream (503) if retries run out${elsewhere}`,
        );
      }
      return;
    }
    // Any answer other than a retryable failure means the downstream is there again.
    if (this.failedAttempts > 0) {
      const n = this.failedAttempts;
      this.logger.info(
        { endpoint: this.endpoint, failedAttempts: n },
        `export to ${this.endpoint} recovered after ${n} failed attempt${n === 1 ? '' : 's'}`,
      );
      this.failedAttempts = 0;
      this.kinds.delete(EXHAUSTED);
    }
  }

  /** A request was accepted with some of its items rejected (`partial_success`). */
  partial(rejected: number, of: number, message: string): void {
    this.once(
      `partial:${message}`,
      'warn',
      { rejected, error: message },
      `the downstream accepted a request but rejected ${rejected} of its ${of} ${this.item}: ${message}`,
    );
  }

  /** Items given up on: rejected permanently, or still failing when retrying ended. */
  dropped(items: number, result: ExportPermanent | ExportRetryable, retry: RetryConfig): void {
    const fields = { reason: result.reason, error: result.error.message, dropped: items };
    const counted = `otelcol_exporter_send_failed_${this.item}_total`;
    if (result.type === 'permanent') {
      this.once(
        `permanent:${result.reason}`,
        'error',
        fields,
        `dropped ${items} ${this.item}: the downstream rejected them permanently (${result.error.message}); further drops of this kind are only counted (${counted})`,
      );
      return;
    }
    const why = retry.enabled
      ? `after retrying for max_elapsed_time (${retry.max_elapsed_time} ms)`
      : '(retry_on_failure is disabled)';
    this.once(
      EXHAUSTED,
      'error',
      fields,
      `dropped ${items} ${this.item} ${why}: ${result.error.message}; further drops are only counted (${counted})`,
    );
  }

  queueFull(message: string, capacity: number): void {
    this.once(
      QUEUE_FULL,
      'warn',
      { queue_size: capacity },
      `${message}: refusing data until it drains (counted in otelcol_exporter_enqueue_failed_${this.item}_total)`,
    );
  }

  /** The queue has room again: the next time it is full is worth a line. */
  queueHasRoom(): void {
    this.kinds.delete(QUEUE_FULL);
  }

  /** What shutdown could not send: kept on disk, or dropped. Said once, at shutdown. */
  leftover(persistent: boolean, batches: number, items: number): void {
    if (batches === 0) return;
    if (persistent) {
      this.logger.info(
        { batches, items },
        `kept ${batches} batches (${items} ${this.item}) in the persistent queue for the next start`,
      );
    } else {
      this.logger.warn(
        { batches, items },
        `dropped ${batches} batches (${items} ${this.item}) left in the in-memory sending queue at shutdown; set sending_queue.storage to keep them across restarts`,
      );
    }
  }

  /** Logs `message` at `level` if no event of this `kind` was logged before. */
  once(
    kind: string,
    level: 'info' | 'warn' | 'error',
    fields: Record<string, unknown>,
    message: string,
  ): void {
    if (this.kinds.has(kind) || this.kinds.size >= MAX_KINDS) return;
    this.kinds.add(kind);
    this.logger[level]({ endpoint: this.endpoint, ...fields }, message);
  }
}
