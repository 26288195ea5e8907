import { gunzipSync, inflateSync } from 'node:zlib';
import type { Signal } from './signal.js';

/**
 * The gRPC wire protocol as far as OTLP's unary Export calls need it, shared by the receiver's
 * server and the otlp exporter's client (both on node:http2).
 */

const SERVICE: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
};

/** `/opentelemetry.proto.collector.trace.v1.TraceService/Export` and so on. */
export function exportPath(signal: Signal): string {
  return `/${SERVICE[signal]}/Export`;
}

/** gRPC status codes (google.rpc.Code), by name. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const STATUS_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

/** `UNAVAILABLE` for 14; undefined for a code gRPC does not define. */
export function grpcStatusName(code: number): string | undefined {
  return STATUS_NAMES.get(code);
}

/** The 5-byte prefix of a message: the compressed flag, then the length as a big-endian uint32. */
export function framePrefix(length: number, compressed: boolean): Buffer {
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

export class GrpcFrameError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
  }
}

const INTERNAL = 13;
const UNIMPLEMENTED = 12;
const RESOURCE_EXHAUSTED = 8;

/**
 * The one message of a unary call's body, decompressed when flagged (gzip or deflate, as
 * `grpc-encoding` says), at most `maxBytes` after decompression. An empty body is undefined.
 */
export function readMessage(
  body: Buffer,
  encoding: string | undefined,
  maxBytes: number,
): Buffer | undefined {
  if (body.length === 0) return undefined;
  if (body.length < 5) throw new GrpcFrameError(INTERNAL, 'truncated gRPC message prefix');
  const flag = body[0]!;
  if (flag > 1) {
    throw new GrpcFrameError(INTERNAL, `invalid gRPC compressed flag ${flag} (must be 0 or 1)`);
  }
  const compressed = flag === 1;
  const length = body.readUInt32BE(1);
  if (length !== body.length - 5) {
    throw new GrpcFrameError(
      INTERNAL,
      length > body.length - 5 ? 'truncated gRPC message' : 'more than one message in a unary call',
    );
  }
  const message = body.subarray(5);
  if (!compressed) return message;
  try {
    if (encoding === 'gzip') return gunzipSync(message, { maxOutputLength: maxBytes });
    if (encoding === 'deflate') return inflateSync(message, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GrpcFrameError(
        RESOURCE_EXHAUSTED,
        `decompressed message larger than max (${maxBytes} bytes)`,
      );
    }
    throw new GrpcFrameError(
      INTERNAL,
      `cannot decompress the ${encoding} message: ${(err as Error).message}`,
    );
  }
  throw new GrpcFrameError(
    UNIMPLEMENTED,
    `message compressed with unsupported encoding "${encoding ?? 'none'}"`,
  );
}

/** `grpc-message` is percent-encoded: bytes outside printable ASCII, and `%` itself. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeGrpcMessage(value: string | undefined): string {
  if (!value) return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The longest deadline, 2^31-1 ms (24.8 days): grpc-js servers wrap a longer one to a negative
 * (`| 0`), and a Node timer waits no longer (`MAX_TIMER_MS` in component/clock.ts; the wire
 * format imports nothing of the project).
 */
const MAX_DEADLINE_MS = 2 ** 31 - 1;

const TIMEOUT_UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/**
 * `grpc-timeout` (`5000m`, `30S`) in ms, or undefined when absent or malformed. The header allows
 * up to 99,999,999 hours; deadlines past what a timer can wait are clamped to it.
 */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(value);
  return m ? Math.min(Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!, MAX_DEADLINE_MS) : undefined;
}

/**
 * A deadline as a `grpc-timeout` value that every server reads as meant: in milliseconds (rounded
 * up) while they fit the header's 8 digits (27.7 hours), else in whole seconds; and at most
 * MAX_DEADLINE_MS (24.8 days), since grpc-js servers wrap a longer deadline to a negative one (`| 0`).
 * A timeout of 1000h was sent as `3600000000m`: malformed, and read by grpc-js as `00000000m`.
 */
export function formatGrpcTimeout(ms: number): string {
  const n = Math.ceil(ms);
  return n <= 99_999_999 ? `${n}m` : `${Math.floor(Math.min(n, MAX_DEADLINE_MS) / 1000)}S`;
}
