import { GrpcStatus } from '../../otlp/grpc.js';
import {
  DecodeError,
  PayloadTooLargeError,
  RefusedError,
  UnavailableError,
  errorMessage,
  isPermanent,
} from '../../component/errors.js';
import type { Signal } from '../../component/consumer.js';
import { otlpTypes } from '../../otlp/proto.js';
import { ProtoWriter, WIRE_LEN, WIRE_VARINT } from '../../otlp/wire.js';

/**
 * The one place where failures become OTLP answers, as the OTLP specification and the
 * Collector's otlp receiver give them:
 *
 * | failure                                 | HTTP | gRPC                |
 * |-----------------------------------------|------|---------------------|
 * | undecodable payload, permanent failure  | 400  | INVALID_ARGUMENT    |
 * | body over the limit after decompression | 413  | RESOURCE_EXHAUSTED* |
 * | pipeline full (memory_limiter, queue)   | 429  | RESOURCE_EXHAUSTED  |
 * | downstream unavailable, shutting down   | 503  | UNAVAILABLE         |
 * | anything unexpected                     | 500  | INTERNAL            |
 *
 * 429 and 503 carry `Retry-After` (HTTP) or a `google.rpc.RetryInfo` detail (gRPC), which the
 * OpenTelemetry SDKs honour. (*) The gRPC server refuses an oversized message while it arrives
 * (`grpc-body.ts`), with grpc-js's wording, before any decoding.
 */
export interface Answer {
  readonly http: number;
  readonly grpc: GrpcStatus;
  readonly message: string;
  /** Set for retryable answers: how long the client should wait. */
  readonly retryAfterMs: number | undefined;
}

/** The wait suggested when a component refuses without saying how long (the Collector's default). */
const DEFAULT_RETRY_AFTER_MS = 5_000;

export function answerFor(err: unknown): Answer {
  if (err instanceof DecodeError || isPermanent(err)) {
    return {
      http: 400,
      grpc: GrpcStatus.INVALID_ARGUMENT,
      message: errorMessage(err),
      retryAfterMs: undefined,
    };
  }
  if (err instanceof PayloadTooLargeError) {
    return {
      http: 413,
      grpc: GrpcStatus.RESOURCE_EXHAUSTED,
      message: err.message,
      retryAfterMs: undefined,
    };
  }
  if (err instanceof RefusedError) {
    return {
      http: 429,
      grpc: GrpcStatus.RESOURCE_EXHAUSTED,
      message: err.message,
      retryAfterMs: err.retryAfterMs,
    };
  }
  if (err instanceof UnavailableError) {
    return {
      http: 503,
      grpc: GrpcStatus.UNAVAILABLE,
      message: err.message,
      retryAfterMs: err.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS,
    };
  }
  return {
    http: 500,
    grpc: GrpcStatus.INTERNAL,
    message: `internal error: ${errorMessage(err)}`,
    retryAfterMs: undefined,
  };
}

/** `google.rpc.Status` with a `RetryInfo` detail when there is a wait to suggest, encoded. */
export function encodeStatus(answer: Answer): Uint8Array {
  // google.rpc.Status { code = 1; message = 2; repeated google.protobuf.Any details = 3 }
  const w = new ProtoWriter(64 + answer.message.length * 3);
  if (answer.grpc !== 0) w.tag(1, WIRE_VARINT).varint(answer.grpc);
  if (answer.message) w.tag(2, WIRE_LEN).string(answer.message);
  if (answer.retryAfterMs !== undefined) {
    const seconds = Math.floor(answer.retryAfterMs / 1000);
    const nanos = Math.round((answer.retryAfterMs % 1000) * 1e6);
    // Any { type_url = 1; value = 2 } holding RetryInfo { Duration retry_delay = 1 { seconds = 1; nanos = 2 } }
    w.fork().tag(1, WIRE_LEN).string(RETRY_INFO_TYPE);
    w.fork().fork();
    if (seconds > 0) w.tag(1, WIRE_VARINT).varint(seconds);
    if (nanos > 0) w.tag(2, WIRE_VARINT).varint(nanos);
    w.join(1).join(2).join(3);
  }
  return w.finish();
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/** The same status as OTLP/JSON (`{"code":14,"message":"...","details":[...]}`). */
export function statusJson(answer: Answer): string {
  const details =
    answer.retryAfterMs === undefined
      ? undefined
      : [
          {
            '@type': RETRY_INFO_TYPE,
            retryDelay: `${(answer.retryAfterMs / 1000).toFixed(3).replace(/\.?0+$/, '')}s`,
          },
        ];
  return JSON.stringify({ code: answer.grpc, message: answer.message, details });
}

/** Retry-After in whole seconds, rounded up (HTTP allows no fractions). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

const REJECTED_FIELD: Record<Signal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

/**
 * The export response. `partial_success` is set only when something was rejected, as the OTLP
 * specification requires; otherwise the body is the empty message (zero bytes, or `{}` in JSON).
 */
export function exportResponse(
  signal: Signal,
  rejected: number,
  errorMessageText: string | undefined,
  json: boolean,
): Uint8Array | string {
  if (rejected === 0) return json ? '{}' : new Uint8Array(0);
  const partial = { [REJECTED_FIELD[signal]]: rejected, errorMessage: errorMessageText ?? '' };
  if (json) {
    return JSON.stringify({
      partialSuccess: { ...partial, [REJECTED_FIELD[signal]]: String(rejected) },
    });
  }
  const t = otlpTypes();
  const type =
    signal === 'traces'
      ? t.traceResponse
      : signal === 'metrics'
        ? t.metricsResponse
        : t.logsResponse;
  return type.encode({ partialSuccess: partial }).finish();
}
