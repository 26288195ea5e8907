import type { Logger } from 'pino';
import type { ExportResult } from './export-result.js';

/** The kind of "dropped after retries ran out": logged once per outage. */
export const EXHAUSTED = 'exhausted';

/** Distinct kinds of failure remembered for "log the first of a kind"; more are just counted. */
const MAX_KINDS = 256;

/**
 * What an exporter says about its downstream, never per batch: when the downstream becomes
 * unreachable it warns once (with the endpoint, and what happens to the data meanwhile); when
 * exports succeed again it says so once, with the number of failed attempts in between. Other
 * events (permanent rejections, drops) are logged the first time each kind happens; the
 * self-metrics count the rest.
 */
export class ExportLog {
  private failedAttempts = 0;
  private readonly kinds = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly endpoint: string,
    private readonly queued: boolean,
  ) {}

  /** Records one attempt's result. */
  attempt(result: ExportResult): void {
    if (result.type === 'retryable') {
      if (this.failedAttempts++ === 0) {
        this.logger.warn(
          { endpoint: this.endpoint, reason: result.reason, error: result.error.message },
          this.queued
            ? `cannot export to ${this.endpoint}: ${result.error.message}; data is kept in the sending queue and retried until the downstream is back`
            : `cannot export to ${this.endpoint}: ${result.error.message}; requests are retried, then refused upstream (503) if retries run out`,
        );
      }
      return;
    }
    // Any answer other than a retryable failure means the downstream is there again.
    if (this.failedAttempts > 0) {
      this.logger.info(
        { endpoint: this.endpoint, failedAttempts: this.failedAttempts },
        `export to ${this.endpoint} recovered after ${this.failedAttempts} failed attempt${this.failedAttempts === 1 ? '' : 's'}`,
      );
      this.failedAttempts = 0;
      this.rearm(EXHAUSTED);
    }
  }

  /** Logs `message` at `level` if no event of this `kind` was logged before; true if it logged. */
  once(
    kind: string,
    level: 'info' | 'warn' | 'error',
    fields: Record<string, unknown>,
    message: string,
  ): boolean {
    if (this.kinds.has(kind) || this.kinds.size >= MAX_KINDS) return false;
    this.kinds.add(kind);
    this.logger[level]({ endpoint: this.endpoint, ...fields }, message);
    return true;
  }

  /** Lets the next event of `kind` be logged again (a condition that ended, such as a full queue). */
  rearm(kind: string): void {
    this.kinds.delete(kind);
  }
}
