/**
 * Named errors with stable codes. Two kinds of failure travel through a pipeline:
 * permanent ones (the same input will fail again: drop, count, log once) and retryable ones
 * (everything else). `status.ts` in the receiver maps them to OTLP answers.
 */

export type ErrorCode =
  | 'HOURGLASS_ERR_CONFIG'
  | 'HOURGLASS_ERR_DECODE'
  | 'HOURGLASS_ERR_TOO_LARGE'
  | 'HOURGLASS_ERR_REFUSED'
  | 'HOURGLASS_ERR_UNAVAILABLE'
  | 'HOURGLASS_ERR_PERMANENT'
  | 'HOURGLASS_ERR_SHUTDOWN'
  | 'HOURGLASS_ERR_STORAGE';

export class HourglassError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration file (or the command line) is wrong. `problems` lists every one, each with its path. */
export class ConfigError extends HourglassError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      'HOURGLASS_ERR_CONFIG',
      `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

/** A payload could not be decoded; the message names what was wrong and where. */
export class DecodeError extends HourglassError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HOURGLASS_ERR_DECODE', message, options);
  }
}

/** A request body is larger than the configured limit (before or after decompression). */
export class PayloadTooLargeError extends HourglassError {
  constructor(message: string) {
    super('HOURGLASS_ERR_TOO_LARGE', message);
  }
}

/**
 * Data that will never be accepted, whatever the number of attempts (a downstream answered 400,
 * say). Not retried: dropped and counted.
 */
export class PermanentError extends HourglassError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HOURGLASS_ERR_PERMANENT', message, options);
  }
}

/**
 * The pipeline refuses data for now because it is full (memory_limiter, a full queue). The client
 * should retry after `retryAfterMs`. Receivers answer 429 / RESOURCE_EXHAUSTED with retry info.
 */
export class RefusedError extends HourglassError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super('HOURGLASS_ERR_REFUSED', message);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Something downstream is not available now (an exporter without a queue failed, the process is
 * shutting down). Receivers answer 503 / UNAVAILABLE, with retry info when `retryAfterMs` is set.
 */
export class UnavailableError extends HourglassError {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs?: number, options?: { cause?: unknown }) {
    super('HOURGLASS_ERR_UNAVAILABLE', message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError || err instanceof DecodeError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
