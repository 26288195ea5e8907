import http2 from 'node:http2';
import { timerMs } from '../../component/clock.js';
import { partsOf, type OtlpBatch, type Signal } from '../../component/consumer.js';
import { clientTlsOptions } from '../../config/tls.js';
import { gzipParts } from '../helper/compression.js';
import { retryable, type ExportResult } from '../helper/export-result.js';
import type { AttemptInfo, ExportTransport } from '../helper/transport.js';
import { grpcTarget, type OtlpExporterConfig } from './config.js';
import {
  GrpcStatus,
  decodeGrpcMessage,
  exportPath,
  formatGrpcTimeout,
  framePrefix,
  readMessage,
} from '../../otlp/grpc.js';
import { codeForHttpStatus, grpcResult } from './grpc-status.js';

/** How long a closing connection waits for the downstream's side of the close before it is cut. */
const CLOSE_GRACE_MS = 1000;

/** Largest response read (an Export response is tiny; a partial_success message is short). */
const MAX_RESPONSE_BYTES = 64 * 1024;
const { UNAVAILABLE } = GrpcStatus;

/**
 * OTLP/gRPC over node:http2: one unary call per export, the encoded request sent as it is (no
 * decoding, no copy: the 5-byte gRPC prefix and the bytes are written separately), compressed
 * with our own gzip level in zlib's thread pool. Written on node:http2 rather than grpc-js because
 * grpc-js compresses at a fixed level 6 and copies each message into its frame (the receiver's
 * server is on node:http2 too); the otlp-sink tests check this client against a grpc-js server.
 *
 * One HTTP/2 connection, opened lazily (the sidecar starts while the downstream is down) and
 * opened again after it fails or the server sends GOAWAY. Retrying and pacing are the
 * exporter helper's; an attempt without a connection fails fast with the connection error.
 */
export class GrpcTransport implements ExportTransport {
  readonly endpoint: string;
  private readonly authority: string;
  private readonly path: string;
  private readonly connectOptions: http2.SecureClientSessionOptions;
  private readonly metadata: Record<string, string>;
  private session: http2.ClientHttp2Session | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly streams = new Set<http2.ClientHttp2Stream>();
  private closed = false;

  constructor(
    private readonly config: OtlpExporterConfig,
    signal: Signal,
  ) {
    const { hostPort, https } = grpcTarget(config.endpoint);
    this.endpoint = hostPort;
    this.path = exportPath(signal);
    const tls = clientTlsOptions(https ? { ...config.tls, insecure: false } : config.tls);
    this.authority = `${tls ? 'https' : 'http'}://${this.endpoint}`;
    this.connectOptions = tls
      ? {
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          rejectUnauthorized: tls.rejectUnauthorized,
          minVersion: tls.minVersion,
          ...(tls.servername ? { servername: tls.servername } : {}),
        }
      : {};
    this.metadata = {};
    for (const [k, v] of Object.entries(config.headers)) this.metadata[k.toLowerCase()] = v;
  }

  async send(batch: OtlpBatch, attempt: AttemptInfo): Promise<ExportResult> {
    const started = Date.now();
    const compressed = this.config.compression === 'gzip';
    const body = compressed
      ? [await gzipParts(partsOf(batch), this.config.compression_params.level)]
      : partsOf(batch);
    const remaining = Math.max(1, attempt.timeoutMs - (Date.now() - started));
    if (this.closed) return retryable('UNAVAILABLE', 'UNAVAILABLE: the exporter is shutting down');
    return this.call(body, compressed, remaining);
  }

  private call(
    body: readonly Uint8Array[],
    compressed: boolean,
    timeoutMs: number,
  ): Promise<ExportResult> {
    return new Promise<ExportResult>((resolve) => {
      let session: http2.ClientHttp2Session;
      let stream: http2.ClientHttp2Stream;
      try {
        session = this.connect();
        stream = session.request({
          ':method': 'POST',
          ':path': this.path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'user-agent': 'hourglass-otlp-exporter',
          'grpc-timeout': formatGrpcTimeout(timeoutMs),
          'grpc-accept-encoding': 'gzip,identity',
          ...(compressed ? { 'grpc-encoding': 'gzip' } : {}),
          ...this.metadata,
        });
      } catch (err) {
        resolve(retryable('UNAVAILABLE', `UNAVAILABLE: ${(err as Error).message}`, undefined, err));
        return;
      }
      this.streams.add(stream);
      let httpStatus = 0;
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      let failure: Error | undefined;
      let settled = false;
      const finish = (result: ExportResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.streams.delete(stream);
        resolve(result);
      };
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        finish(
          retryable(
            'DEADLINE_EXCEEDED',
            `DEADLINE_EXCEEDED: no answer within ${Math.ceil(timeoutMs)} ms`,
          ),
        );
      }, timerMs(timeoutMs));
      stream.on('response', (h) => {
        headers = h;
        httpStatus = Number(h[':status']);
      });
      stream.on('data', (chunk: Buffer) => {
        if (size + chunk.length <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('trailers', (t) => (trailers = t));
      stream.on('error', (err) => (failure = err));
      stream.on('close', () =>
        finish(this.result(httpStatus, headers, trailers, chunks, failure, stream.rstCode)),
      );
      let length = 0;
      for (const part of body) length += part.length;
      stream.write(framePrefix(length, compressed));
      for (const part of body) stream.write(part);
      stream.end();
    });
  }

  private result(
    httpStatus: number,
    headers: http2.IncomingHttpHeaders,
    trailers: http2.IncomingHttpHeaders | undefined,
    chunks: Buffer[],
    failure: Error | undefined,
    rstCode: number | undefined,
  ): ExportResult {
    // Trailers-Only responses carry the status in the headers.
    const status =
      trailers?.['grpc-status'] !== undefined
        ? trailers
        : headers['grpc-status'] !== undefined
          ? headers
          : undefined;
    if (status) {
      const details = status['grpc-status-details-bin'];
      let response: Buffer | undefined;
      try {
        response = readMessage(
          Buffer.concat(chunks),
          headers['grpc-encoding'] as string | undefined,
          MAX_RESPONSE_BYTES,
        );
      } catch {
        response = undefined;
      }
      return grpcResult(
        Number(status['grpc-status']),
        decodeGrpcMessage(status['grpc-message'] as string | undefined),
        typeof details === 'string' ? Buffer.from(details, 'base64') : undefined,
        response,
      );
    }
    if (httpStatus !== 0 && httpStatus !== 200) {
      return grpcResult(
        codeForHttpStatus(httpStatus),
        `HTTP ${httpStatus} from ${this.endpoint}`,
        undefined,
        undefined,
      );
    }
    const why = failure
      ? failure.message
      : `the stream closed without a status (code ${rstCode ?? 'none'})`;
    return grpcResult(UNAVAILABLE, why, undefined, undefined);
  }

  /** The open connection, or a new one. */
  private connect(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.authority, this.connectOptions);
    const forget = () => {
      if (this.session === session) {
        this.session = undefined;
        clearInterval(this.pingTimer);
      }
    };
    // Errors reach the calls on it (as stream errors); the session only has to be forgotten.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    // Connections must not keep the process alive; the sending queue decides when work is done.
    session.unref();
    this.session = session;
    this.startPings(session);
    return session;
  }

  /** keepalive: ping after `time` idle; a ping unanswered within `timeout` drops the connection. */
  private startPings(session: http2.ClientHttp2Session): void {
    const keepalive = this.config.keepalive;
    if (!keepalive) return;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!keepalive.permit_without_stream && this.streams.size === 0) return;
      const deadline = setTimeout(
        () => session.destroy(new Error('keepalive ping timed out')),
        timerMs(keepalive.timeout),
      );
      session.ping((err) => {
        clearTimeout(deadline);
        if (err) session.destroy(err);
      });
    }, timerMs(keepalive.time));
    this.pingTimer.unref();
  }

  /**
   * Cancels what is in flight and closes the connection: gracefully (GOAWAY), but a downstream
   * that does not finish the close within CLOSE_GRACE_MS (one that accepted the connection and
   * never spoke HTTP/2, or hangs) has it cut, so that shutdown never waits on the downstream.
   */
  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const stream of this.streams) stream.close(http2.constants.NGHTTP2_CANCEL);
    const session = this.session;
    this.session = undefined;
    if (!session || session.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const cut = setTimeout(() => {
        session.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      session.close(() => {
        clearTimeout(cut);
        resolve();
      });
    });
  }
}
