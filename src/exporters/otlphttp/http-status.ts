import { permanent, retryable, success, type ExportResult } from '../helper/export-result.js';
import { decodePartialSuccess, decodePartialSuccessJson } from '../helper/partial-success.js';
import { decodeRpcStatus, decodeRpcStatusJson, type RpcStatus } from '../helper/rpc-status.js';

/** Statuses worth retrying, as the OTLP/HTTP specification lists them. */
const RETRYABLE = new Set([429, 502, 503, 504]);

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly retryAfter: string | undefined;
  /** The response body, cut at the size cap. */
  readonly body: Buffer;
}

/** An OTLP/HTTP answer as an export result. `now` reads the clock (for HTTP-date Retry-After). */
export function httpResult(a: HttpAnswer, now: number): ExportResult {
  const json = a.contentType.startsWith('application/json');
  if (a.status >= 200 && a.status < 300) {
    const p = json
      ? decodePartialSuccessJson(a.body.toString('utf8'))
      : decodePartialSuccess(a.body);
    return success(p.rejected, p.message);
  }
  const reason = `HTTP ${a.status}`;
  const status = rpcStatus(a, json);
  const message = `${reason}: ${status?.message || bodyText(a.body)}`;
  if (!RETRYABLE.has(a.status)) return permanent(reason, message);
  // The OTLP/HTTP hint is Retry-After; a RetryInfo in the status body is read too.
  const wait = parseRetryAfter(a.retryAfter, now) ?? status?.retryDelayMs;
  return retryable(reason, message, wait);
}

/**
 * `Retry-After` as a wait in ms: delay-seconds (`120`) or an HTTP-date, read against `now`.
 * Undefined when absent or unreadable.
 */
function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The `google.rpc.Status` body (protobuf or JSON), if the body is one. */
function rpcStatus(a: HttpAnswer, json: boolean): RpcStatus | undefined {
  if (a.body.length === 0) return undefined;
  if (json) return decodeRpcStatusJson(a.body.toString('utf8'));
  if (a.contentType.startsWith('application/x-protobuf')) return decodeRpcStatus(a.body);
  return undefined;
}

function bodyText(body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (text === '') return 'no body';
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
