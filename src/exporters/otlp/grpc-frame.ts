import { gunzipSync } from 'node:zlib';

/**
 * gRPC's length-prefixed message framing (one message per unary call): a byte with the
 * compressed flag, the length as a big-endian uint32, then the message.
 */
export function framePrefix(length: number, compressed: boolean): Buffer {
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

/** The first message of a unary response body (gunzipped when flagged), or undefined when empty. */
export function readMessage(
  body: Buffer,
  encoding: string | undefined,
  maxBytes: number,
): Buffer | undefined {
  if (body.length < 5) return undefined;
  const compressed = body[0] === 1;
  const length = body.readUInt32BE(1);
  if (length > body.length - 5) return undefined;
  const message = body.subarray(5, 5 + length);
  if (!compressed) return message;
  if (encoding !== 'gzip') return undefined;
  return gunzipSync(message, { maxOutputLength: maxBytes });
}

/** `grpc-message` is percent-encoded (RFC 3986 style). */
export function decodeGrpcMessage(value: string | undefined): string {
  if (!value) return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
