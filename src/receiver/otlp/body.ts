import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DecodeError, PayloadTooLargeError, UnavailableError } from '../../component/errors.js';
import type { BodyHold } from './body-hold.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

/**
 * Reads a request body, decompressing it when `Content-Encoding` says so, and never holding more
 * than `limit` bytes: the compressed body is capped as it streams in, and decompression stops at
 * `limit` bytes of output (so a gzip bomb costs `limit`, not its expanded size). Every byte read
 * and decompressed is reported to `hold` as it comes; when memory is over the limit the read stops
 * and the memory_limiter's `RefusedError` is thrown. When `stop` aborts (the receiver shuts down)
 * before the body is whole, the read stops with an `UnavailableError`.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  hold: BodyHold,
  stop?: AbortSignal,
): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity' && !DECOMPRESS[encoding]) {
    throw new DecodeError(
      `unsupported Content-Encoding "${encoding}"; send gzip, deflate or an uncompressed body`,
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new PayloadTooLargeError(
      `request body of ${declared} bytes is over the limit of ${limit} bytes (max_request_body_size)`,
    );
  }
  const raw = await collect(req, limit, hold, stop);
  const decompress = DECOMPRESS[encoding];
  if (!decompress) return raw;
  let out: Buffer;
  try {
    out = await decompress(raw, limit);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadTooLargeError(
        `decompressed request body is over the limit of ${limit} bytes (max_request_body_size)`,
      );
    }
    throw new DecodeError(`cannot decompress the ${encoding} body: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const refused = hold.add(out.length);
  if (refused) throw refused;
  return out;
}

/**
 * Output chunks sized for OTLP's usual ratio (about 7:1), so a body inflates in a pass or two:
 * each chunk is a round trip between zlib's thread pool and the event loop (16 KiB by default).
 */
function options(b: Buffer, limit: number): zlib.ZlibOptions {
  return {
    maxOutputLength: limit,
    chunkSize: Math.min(Math.max(b.length * 8, 64 * 1024), 4 * 1024 * 1024, Math.max(limit, 64)),
  };
}

const DECOMPRESS: Record<string, ((b: Buffer, limit: number) => Promise<Buffer>) | undefined> = {
  gzip: (b, limit) => gunzip(b, options(b, limit)),
  'x-gzip': (b, limit) => gunzip(b, options(b, limit)),
  // "deflate" is zlib-wrapped per RFC 9110, but some clients send raw deflate: accept both.
  deflate: (b, limit) =>
    inflate(b, options(b, limit)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ERR_BUFFER_TOO_LARGE') throw err;
      return inflateRaw(b, options(b, limit));
    }),
};

function collect(
  req: IncomingMessage,
  limit: number,
  hold: BodyHold,
  stop: AbortSignal | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      const refused = hold.add(chunk.length);
      if (refused) {
        cleanup();
        reject(refused);
        return;
      }
      if (size > limit) {
        cleanup();
        req.resume();
        reject(
          new PayloadTooLargeError(
            `request body is over the limit of ${limit} bytes (max_request_body_size)`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new DecodeError(`cannot read the request body: ${err.message}`, { cause: err }));
    };
    const onAborted = () => {
      cleanup();
      reject(new DecodeError('the client closed the connection before the body was complete'));
    };
    const onStop = () => {
      cleanup();
      reject(new UnavailableError('the receiver is shutting down; send the request again', 1000));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      stop?.removeEventListener('abort', onStop);
    };
    if (stop?.aborted) return onStop();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    stop?.addEventListener('abort', onStop);
  });
}
