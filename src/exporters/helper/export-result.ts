/**
 * The outcome of one export attempt, as a value: transports never throw for a downstream answer.
 * `permanent` will fail again for the same data (drop and count); `retryable` may succeed later,
 * after `retryAfterMs` when the server said how long to wait.
 */
export type ExportResult = ExportSuccess | ExportPermanent | ExportRetryable;

export interface ExportSuccess {
  readonly type: 'success';
  /** Items the server refused inside an accepted request (`partial_success`). */
  readonly rejected: number;
  readonly rejectedMessage: string;
}

export interface ExportPermanent {
  readonly type: 'permanent';
  readonly error: Error;
  /** A short, stable name for this kind of failure (`HTTP 400`, `INVALID_ARGUMENT`), for logs. */
  readonly reason: string;
}

export interface ExportRetryable {
  readonly type: 'retryable';
  readonly error: Error;
  readonly reason: string;
  /** The server's retry hint (Retry-After, google.rpc.RetryInfo), when it gave one. */
  readonly retryAfterMs: number | undefined;
}

export const SUCCESS: ExportSuccess = Object.freeze({
  type: 'success',
  rejected: 0,
  rejectedMessage: '',
});

export function success(rejected: number, rejectedMessage: string): ExportSuccess {
  return rejected > 0 ? { type: 'success', rejected, rejectedMessage } : SUCCESS;
}

export function permanent(reason: string, message: string): ExportPermanent {
  return { type: 'permanent', error: new Error(message), reason };
}

export function retryable(
  reason: string,
  message: string,
  retryAfterMs?: number,
  cause?: unknown,
): ExportRetryable {
  return {
    type: 'retryable',
    error: new Error(message, cause === undefined ? undefined : { cause }),
    reason,
    retryAfterMs,
  };
}
