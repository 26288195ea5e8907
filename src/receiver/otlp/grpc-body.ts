import type http2 from 'node:http2';
import { timerMs } from '../../component/clock.js';
import { UnavailableError } from '../../component/errors.js';
import { GrpcStatus } from '../../otlp/grpc.js';
import type { BodyHold } from './body-hold.js';
import { answerFor, type Answer } from './status.js';

const { CANCELLED, RESOURCE_EXHAUSTED } = GrpcStatus;

export interface GrpcBodyOptions {
  /** Largest message (the 5-byte prefix comes on top). */
  readonly maxBytes: number;
  /** The whole message must arrive within this (0: no limit). */
  readonly readTimeoutMs: number;
  /** Where the bytes held are reported (the memory_limiter refuses through it). */
  readonly hold: BodyHold;
  /** Sends an error answer on the stream. */
  readonly answer: (a: Answer) => void;
  readonly timedOut: () => void;
  readonly refused: () => void;
  /** Aborted when the receiver shuts down: a message still arriving is answered `UNAVAILABLE`. */
  readonly shutdown?: AbortSignal;
}

/**
 * The whole body of a unary call, or undefined when it was answered here: over the size limit
 * (`RESOURCE_EXHAUSTED`), refused by the memory_limiter as it arrived (`RESOURCE_EXHAUSTED` with
 * RetryInfo), not whole within `read_timeout` (`CANCELLED`, and the stream is reset: a call that
 * sends 3.9 of 4 MiB and stops does not hold them), cut by shutdown (`UNAVAILABLE` with RetryInfo),
 * or the client left.
 */
export function readGrpcBody(
  stream: http2.ServerHttp2Stream,
  o: GrpcBodyOptions,
): Promise<Buffer | undefined> {
  const limit = o.maxBytes + 5;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const stop = (a: Answer | undefined) => {
      done = true;
      clearTimeout(timer);
      o.shutdown?.removeEventListener('abort', onShutdown);
      if (a) o.answer(a);
      resolve(undefined);
    };
    // A network timeout in real time, as Node's own HTTP timeouts are.
    const timer =
      o.readTimeoutMs > 0
        ? setTimeout(() => {
            if (done) return;
            o.timedOut();
            stop(
              grpcError(
                CANCELLED,
                `the request message did not arrive within read_timeout (${o.readTimeoutMs} ms)`,
              ),
            );
          }, timerMs(o.readTimeoutMs)).unref()
        : undefined;
    const onShutdown = () => {
      if (done) return;
      o.refused();
      stop(
        answerFor(new UnavailableError('the receiver is shutting down; send the call again', 1000)),
      );
    };
    if (o.shutdown?.aborted) return onShutdown();
    o.shutdown?.addEventListener('abort', onShutdown);
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        return stop(
          grpcError(
            RESOURCE_EXHAUSTED,
            `Received message larger than max (${size - 5} vs. ${o.maxBytes})`,
          ),
        );
      }
      const refused = o.hold.add(chunk.length);
      if (refused) {
        o.refused();
        return stop(answerFor(refused));
      }
      chunks.push(chunk);
    });
    stream.once('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.shutdown?.removeEventListener('abort', onShutdown);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    stream.once('close', () => {
      if (!done) stop(undefined);
    });
  });
}

export function grpcError(code: GrpcStatus, message: string): Answer {
  return { http: 0, grpc: code, message, retryAfterMs: undefined };
}
