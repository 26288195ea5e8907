import { GrpcStatus, grpcStatusName } from '../../otlp/grpc.js';
import { permanent, retryable, success, type ExportResult } from '../helper/export-result.js';
import { decodePartialSuccess } from '../helper/partial-success.js';
import { decodeRpcStatus } from '../helper/rpc-status.js';

/**
 * gRPC answers to export results, as the OTLP specification says: these codes are retryable,
 * RESOURCE_EXHAUSTED only when the server sends RetryInfo (it then means "slow down", not "too
 * big"), and every other code is permanent.
 */
const RETRYABLE = new Set<number>([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

function codeName(code: number): string {
  return grpcStatusName(code) ?? `code ${code}`;
}

/**
 * The result of a finished call: its status code and message, the `grpc-status-details-bin`
 * bytes (a google.rpc.Status, maybe with RetryInfo) and, on success, the response message
 * (which may carry partial_success).
 */
export function grpcResult(
  code: number,
  message: string,
  details: Uint8Array | undefined,
  response: Uint8Array | undefined,
): ExportResult {
  if (code === GrpcStatus.OK) {
    const partial = decodePartialSuccess(response ?? new Uint8Array(0));
    return success(partial.rejected, partial.message);
  }
  const name = codeName(code);
  const status = details ? decodeRpcStatus(details) : undefined;
  const text = `${name}: ${message || status?.message || 'no details'}`;
  const retryDelayMs = status?.retryDelayMs;
  if (RETRYABLE.has(code)) return retryable(name, text, retryDelayMs);
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && retryDelayMs !== undefined) {
    return retryable(name, text, retryDelayMs);
  }
  return permanent(name, text);
}

/**
 * The gRPC code for an HTTP status that is not 200 (a proxy answered, or no gRPC server is there),
 * as gRPC's HTTP to gRPC status mapping gives it.
 */
export function codeForHttpStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}
