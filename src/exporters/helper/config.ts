import { z } from 'zod';
import { duration } from '../../config/schema.js';

/**
 * Settings every queued exporter shares, as the Collector's exporterhelper spells them:
 * `retry_on_failure`, `sending_queue`, and `timeout` (per attempt).
 */

const retryFields = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Wait after the first failure. */
    initial_interval: duration(5_000),
    /** Each wait is drawn from [interval * (1 - f), interval * (1 + f)]. */
    randomization_factor: z.number().min(0).max(1).default(0.5),
    multiplier: z.number().min(1).default(1.5),
    /** The longest wait between two attempts. */
    max_interval: duration(30_000),
    /**
     * Give up (drop and count) after retrying this long; 0 (the default) retries until delivered.
     * The Collector gives up after 5 minutes; a sidecar that answered 200 must deliver after a
     * longer outage too, and the queue bound (429 upstream when full) keeps memory in check.
     */
    max_elapsed_time: duration(0),
  })
  .superRefine((v, ctx) => {
    if (v.enabled && v.initial_interval <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['initial_interval'],
        message: 'must be greater than 0 when retries are enabled',
      });
    }
    if (v.max_interval < v.initial_interval) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_interval'],
        message: 'must be at least initial_interval',
      });
    }
  });

/**
 * An absent `retry_on_failure` takes every default. (The cast: `duration()` keys are optional at
 * run time, which zod's input type does not show.)
 */
export const retryOnFailure = retryFields.prefault({} as z.input<typeof retryFields>);

export const sendingQueue = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Concurrent exports draining the queue. */
    num_consumers: z.number().int().min(1).default(10),
    /** The most batches held (waiting or being sent); when full, data is refused (429). */
    queue_size: z.number().int().min(1).default(1000),
    /** A directory for a persistent queue that survives restarts; in memory when absent. */
    storage: z.string().min(1).optional(),
    /**
     * Batches waiting in the queue are merged into one export up to this many bytes (0: never
     * merge). Keep it under the downstream's message limit (4 MiB for an OTLP/gRPC receiver).
     */
    merge_max_bytes: z
      .number()
      .int()
      .nonnegative()
      .default(1024 * 1024),
  })
  .prefault({});

export type RetryConfig = z.output<typeof retryOnFailure>;
export type QueueConfig = z.output<typeof sendingQueue>;

/** What `QueuedExporter` needs from an exporter's config. */
export interface ExporterHelperConfig {
  /** Per attempt, in ms. */
  readonly timeout: number;
  readonly retry_on_failure: RetryConfig;
  readonly sending_queue: QueueConfig;
}

/** `timeout`: the time one export attempt may take. */
export function exportTimeout(defaultMs: number) {
  return duration(defaultMs).refine((v) => v > 0, { message: 'must be greater than 0' });
}

/**
 * A required string whose absence is reported with `message` (zod's own "expected a string, got
 * nothing" says too little), checked further by `check` when present.
 */
export function requiredString(
  message: string,
  check: (value: string, ctx: z.RefinementCtx) => void = () => undefined,
) {
  return z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      if (v === undefined) ctx.addIssue({ code: 'custom', message: `required: ${message}` });
      else check(v, ctx);
    })
    .transform((v) => v!);
}
