import * as grpc from '@grpc/grpc-js';
import { permanent, retryable, success, type ExportResult } from '../helper/export-result.js';
import { decodePartialSuccess } from '../helper/partial-success.js';
import { decodeRpcStatus } from '../helper/rpc-status.js';

/**
 * gRPC answers to export results, as the OTLP specification says: these codes are retryable,
 * RESOURCE_EXHAUSTED only when the server sends RetryInfo (it then means "slow down", not "too
 * big"), and every other code is permanent.
 */
const RETRYABLE = new Set<grpc.status>([
  grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

export function grpcResult(
  err: grpc.ServiceError | null,
  response: Buffer | undefined,
): ExportResult {
  if (!err) {
    const partial = decodePartialSuccess(response ?? new Uint8Array(0));
    return success(partial.rejected, partial.message);
  }
  const code = err.code;
  const name = grpc.status[code] ?? `code ${code}`;
  const details = err.metadata?.get('grpc-status-details-bin')[0];
  const status = Buffer.isBuffer(details) ? decodeRpcStatus(details) : undefined;
  const message = `${name}: ${err.details || status?.message || 'no details'}`;
  const retryDelayMs = status?.retryDelayMs;
  if (RETRYABLE.has(code)) return retryable(name, message, retryDelayMs, err);
  if (code === grpc.status.RESOURCE_EXHAUSTED && retryDelayMs !== undefined) {
    return retryable(name, message, retryDelayMs, err);
  }
  return permanent(name, message);
}
