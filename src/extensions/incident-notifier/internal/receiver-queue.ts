import type { Clock, Timer } from '../../../component/clock.js';

/** A message for one receiver, with when it was first queued (for `max_elapsed_time`). */
export interface Job {
  readonly body: unknown;
  /** SEV1 openings and escalations: first in line, never held back by the rate limit. */
  readonly urgent: boolean;
  readonly queuedAt: number;
  /** Incident id and what happened, for the metrics and the delivery record. */
  readonly incidentId: string;
  readonly kind: string;
}

/**
 * What one attempt came to; `retryAfterMs`, the receiver's `Retry-After`: no request to it before
 * then.
 */
export type Outcome =
  { ok: true } | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number };

export interface QueueSettings {
  readonly queueSize: number;
  readonly perMinute: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly maxElapsedMs: number;
}

export interface QueueEvents {
  sent(job: Job, at: number): void;
  failed(job: Job, reason: string, retryable: boolean): void;
  dropped(job: Job, why: 'queue_full' | 'shutdown'): void;
}

/**
 * The notifications waiting for one receiver: a bounded FIFO with urgent jobs at the front, one
 * request at a time, a token bucket of `perMinute` (urgent jobs pass without a token), and on a
 * retryable failure jittered exponential backoff from `initialMs` up to `maxMs`, until
 * `maxElapsedMs` after the job was queued. All on the injected clock.
 */
export class ReceiverQueue {
  private readonly jobs: Job[] = [];
  private tokens: number;
  private refilledAt: number;
  private busy = false;
  private wait: Timer | undefined;
  /**
   * No request before this time: the receiver's `Retry-After`, at most `maxElapsedMs` (urgent jobs
   * wait for it too).
   */
  private pausedUntil = 0;
  private attempt = 0;
  private closed = false;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private flight: Promise<void> = Promise.resolve();

  constructor(
    private readonly settings: QueueSettings,
    private readonly clock: Clock,
    private readonly send: (job: Job) => Promise<Outcome>,
    private readonly events: QueueEvents,
    private readonly random: () => number = Math.random,
  ) {
    this.tokens = settings.perMinute;
    this.refilledAt = clock.now();
  }

  get size(): number {
    return this.jobs.length;
  }

  push(job: Job): void {
    if (this.closed) {
      this.events.dropped(job, 'shutdown');
      return;
    }
    if (this.jobs.length >= this.settings.queueSize) {
      // Full: an urgent job takes the place of the newest ordinary one; otherwise it is dropped.
      const last = this.jobs.findLastIndex((j) => !j.urgent);
      if (!job.urgent || last < 0) {
        this.events.dropped(job, 'queue_full');
        return;
      }
      this.events.dropped(this.jobs.splice(last, 1)[0]!, 'queue_full');
    }
    if (job.urgent) {
      const firstOrdinary = this.jobs.findIndex((j, k) => !j.urgent && !(k === 0 && this.busy));
      this.jobs.splice(firstOrdinary < 0 ? this.jobs.length : firstOrdinary, 0, job);
      // An urgent job does not wait out a rate-limit pause or an ordinary job's backoff.
      if (!this.busy && this.wait) {
        this.wait.cancel();
        this.wait = undefined;
        this.attempt = 0;
      }
    } else {
      this.jobs.push(job);
    }
    this.pump();
  }

  /** Resolves once nothing is queued or being sent. */
  idle(): Promise<void> {
    if (this.jobs.length === 0 && !this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Shutdown: every queued job gets one attempt now, whatever the rate limit or a pending backoff,
   * and none is retried. Resolves once the queue is empty.
   */
  drain(): Promise<void> {
    this.draining = true;
    if (this.wait) {
      this.wait.cancel();
      this.wait = undefined;
    }
    this.pump();
    return this.idle();
  }

  /** Resolves once the request in flight, if any, has its outcome (a retry may be pending). */
  settled(): Promise<void> {
    return this.flight;
  }

  /** Drops what is still queued (counted) and stops; a request in flight finishes. */
  close(): void {
    this.closed = true;
    this.wait?.cancel();
    this.wait = undefined;
    for (const job of this.jobs.splice(this.busy ? 1 : 0)) this.events.dropped(job, 'shutdown');
    if (!this.busy) this.settle();
  }

  private pump(): void {
    if (this.busy || this.wait || this.closed) return;
    const job = this.jobs[0];
    if (!job) {
      this.settle();
      return;
    }
    const paused = this.pausedUntil - this.clock.now();
    if (paused > 0 && !this.draining) {
      this.waitThen(paused);
      return;
    }
    if (!job.urgent && !this.draining && !this.takeToken()) {
      this.waitThen(Math.ceil(60_000 / this.settings.perMinute));
      return;
    }
    if (job.urgent) this.takeToken();
    this.busy = true;
    this.flight = this.send(job).then(
      (o) => this.finish(job, o),
      (err: unknown) => this.finish(job, { ok: false, retryable: true, reason: String(err) }),
    );
  }

  private finish(job: Job, o: Outcome): void {
    this.busy = false;
    const now = this.clock.now();
    if (o.ok) {
      this.jobs.shift();
      this.attempt = 0;
      this.events.sent(job, now);
    } else {
      // The receiver's Retry-After when it said one (Slack does with a 429), else the backoff.
      const delay = Math.max(this.backoff(), o.retryAfterMs ?? 0);
      // The receiver is paused at most max_elapsed_time: a Retry-After of a day would silence it
      // for a day (this job, asked to wait beyond its budget, is given up below).
      if (o.retryAfterMs !== undefined) {
        this.pausedUntil = now + Math.min(o.retryAfterMs, this.settings.maxElapsedMs);
      }
      const retry =
        o.retryable &&
        !this.closed &&
        !this.draining &&
        now + delay - job.queuedAt <= this.settings.maxElapsedMs;
      this.events.failed(job, o.reason, retry);
      if (retry) {
        this.attempt++;
        this.waitThen(delay);
        return;
      }
      this.jobs.shift();
      this.attempt = 0;
    }
    if (this.closed) {
      this.settle();
      return;
    }
    this.pump();
  }

  private waitThen(ms: number): void {
    this.wait = this.clock.setTimeout(() => {
      this.wait = undefined;
      this.pump();
    }, ms);
    this.wait.unref();
  }

  private backoff(): number {
    const base = Math.min(this.settings.maxMs, this.settings.initialMs * 2 ** this.attempt);
    // Jitter: between half and the whole of it, so receivers retried together spread out.
    return Math.round(base * (0.5 + 0.5 * this.random()));
  }

  private takeToken(): boolean {
    const now = this.clock.now();
    const per = this.settings.perMinute;
    this.tokens = Math.min(per, this.tokens + ((now - this.refilledAt) * per) / 60_000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private settle(): void {
    if (this.jobs.length > 0 || this.busy) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
