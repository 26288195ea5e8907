import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerAuthenticator } from '../../component/auth.js';
import type { Consumer, Signal } from '../../component/consumer.js';
import { timerMs } from '../../component/clock.js';
import { listen } from '../../net/listen.js';
import { serverTlsOptions } from '../../config/tls.js';
import {
  GrpcFrameError,
  GrpcStatus,
  encodeGrpcMessage,
  exportPath,
  framePrefix,
  parseGrpcTimeout,
  readMessage,
} from '../../otlp/grpc.js';
import type { ReceiverMetrics } from '../../telemetry/self-metrics.js';
import { BodyHold } from './body-hold.js';
import type { GrpcConfig } from './config.js';
import {
  ConnectionSlots,
  backstopConnections,
  type ConnectionMetrics,
} from '../../net/connections.js';
import { decodeRequest } from './decode.js';
import { grpcError, readGrpcBody } from './grpc-body.js';
import { IdleSession } from './idle-session.js';
import { answerFor, encodeStatus, exportResponse, type Answer } from './status.js';

const { OK, DEADLINE_EXCEEDED, UNIMPLEMENTED, UNAUTHENTICATED } = GrpcStatus;

/**
 * Flow-control windows, as grpc-go servers (the Collector, Jaeger) size them once their
 * bandwidth-delay estimate grows: HTTP/2's 64 KiB default makes a client wait for a window update
 * every 64 KiB of a 200 KiB+ export, which throttles ingestion whenever the event loop is busy.
 */
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;

/**
 * OTLP/gRPC on node:http2: the unary Export method of the TraceService, MetricsService and
 * LogsService, for the signals that have a pipeline (the others answer UNIMPLEMENTED, as in the
 * Collector). The request body is read once, checked against `max_recv_msg_size_mib` before and
 * after decompression, and handed to the same decoder as OTLP/HTTP protobuf. grpc-js is not used
 * here because its server copies each message and keeps HTTP/2's default 64 KiB windows; it is
 * what the tests use as an independent client.
 */
export class OtlpGrpcServer {
  private server: http2.Http2Server | http2.Http2SecureServer | undefined;
  private readonly routes = new Map<
    string,
    { signal: Signal; consumer: Consumer; layout: boolean }
  >();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly idle = new WeakMap<http2.ServerHttp2Session, IdleSession>();
  private slots: ConnectionSlots<http2.ServerHttp2Session> | undefined;
  private inFlight = 0;
  /** Aborted at shutdown: messages still arriving are cut (see `shutdown`). */
  private readonly stopReading = new AbortController();
  private drained: (() => void) | undefined;
  private readonly maxBytes: number;

  constructor(
    private readonly config: GrpcConfig,
    next: Partial<Record<Signal, Consumer>>,
    private readonly logger: Logger,
    private readonly metrics: ReceiverMetrics,
    private readonly auth: ServerAuthenticator | undefined,
    private readonly connections: ConnectionMetrics,
  ) {
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const consumer = next[signal];
      // Whether to record span layouts is settled once: the pipelines are built before receivers.
      const layout = consumer?.readsSpanLayout?.() === true;
      if (consumer) this.routes.set(exportPath(signal), { signal, consumer, layout });
    }
    this.maxBytes = Math.floor(config.max_recv_msg_size_mib * 1024 * 1024);
  }

  async start(): Promise<void> {
    const settings: http2.Settings = {
      initialWindowSize: STREAM_WINDOW,
      maxConcurrentStreams: this.config.max_concurrent_streams,
    };
    const options = { settings, maxSessionMemory: 256 };
    const server = this.config.tls
      ? http2.createSecureServer({
          ...serverTlsOptions(this.config.tls),
          ...options,
          handshakeTimeout: this.config.read_header_timeout || 120_000,
        })
      : http2.createServer(options);
    backstopConnections(server, this.config.max_connections, this.connections);
    const slots = new ConnectionSlots<http2.ServerHttp2Session>(
      this.config.max_connections,
      this.connections,
    );
    this.slots = slots;
    server.on('session', (session: http2.ServerHttp2Session) => {
      if (!slots.admit(session, () => session.destroy())) {
        session.destroy();
        return;
      }
      this.sessions.add(session);
      const idle = new IdleSession(session, this.config, this.connections);
      this.idle.set(session, idle);
      session.on('close', () => {
        this.sessions.delete(session);
        slots.release(session);
        idle.stop();
      });
      session.on('error', () => undefined); // the streams see it; nothing to add
      try {
        session.setLocalWindowSize(CONNECTION_WINDOW);
      } catch {
        // the session closed before it was ready
      }
    });
    server.on('stream', (stream, headers) => {
      const session = stream.session as http2.ServerHttp2Session;
      const idle = this.idle.get(session);
      idle?.streamOpened();
      this.slots?.requestStarted(session);
      stream.once('close', () => {
        idle?.streamClosed();
        this.slots?.requestEnded(session);
      });
      this.inFlight++;
      this.handle(stream, headers)
        .catch((err: unknown) => {
          this.logger.error({ err }, 'unexpected error handling an OTLP/gRPC request');
          this.fail(stream, {
            http: 500,
            grpc: 13,
            message: 'internal error',
            retryAfterMs: undefined,
          });
        })
        .finally(() => {
          if (--this.inFlight === 0) this.drained?.();
        });
    });
    await listen(server, this.config.endpoint, 'OTLP/gRPC');
    // Past listening, an error (EMFILE accepting a connection) must not crash the process.
    let told = false;
    server.on('error', (err) => {
      if (!told) this.logger.warn({ err }, '%s server error; still serving', 'OTLP/gRPC');
      told = true;
    });
    this.server = server;
  }

  address(): string | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /**
   * Stops accepting connections, tells clients to go away (GOAWAY: calls in flight finish, new ones
   * go elsewhere) and waits, up to `graceMs`, for the calls in flight to be answered.
   */
  async shutdown(graceMs = 30_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of this.sessions) session.close();
    // Messages still arriving are answered UNAVAILABLE (nothing of theirs was accepted; the client
    // sends again): a call trickling in held the drain behind it for the whole grace.
    this.stopReading.abort();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, timerMs(graceMs)).unref());
    const drained =
      this.inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => (this.drained = resolve));
    // Then the sessions end by themselves (GOAWAY sent, answers flushed); destroyed at the grace.
    const ended = (session: http2.ServerHttp2Session) =>
      session.destroyed ? undefined : new Promise((resolve) => session.once('close', resolve));
    await Promise.race([drained.then(() => Promise.all([...this.sessions].map(ended))), grace]);
    for (const session of this.sessions) session.destroy();
    await closed;
  }

  private async handle(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): Promise<void> {
    const started = performance.now();
    stream.on('error', () => undefined); // a client gone away: nothing to answer
    const contentType = headers['content-type'];
    if (!contentType?.startsWith('application/grpc')) {
      if (!stream.destroyed) stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const route = this.routes.get(headers[':path'] ?? '');
    if (!route || headers[':method'] !== 'POST') {
      return this.fail(
        stream,
        grpcError(UNIMPLEMENTED, `The server does not implement the method ${headers[':path']}`),
      );
    }
    if (this.auth) {
      const value = headers['authorization'];
      if (!this.auth.authenticate(Array.isArray(value) ? value[0] : value)) {
        return this.fail(stream, grpcError(UNAUTHENTICATED, 'missing or invalid bearer token'));
      }
    }
    const { signal, consumer, layout } = route;
    // Refused anyway? Then answer before reading the message.
    const early = consumer.refusal?.();
    if (early) {
      this.metrics.refusedUndecoded(signal);
      return this.fail(stream, answerFor(early));
    }
    const timeoutMs = parseGrpcTimeout(headers['grpc-timeout'] as string | undefined);
    let expired = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            expired = true;
            this.fail(stream, grpcError(DEADLINE_EXCEEDED, 'Deadline exceeded'));
          }, timeoutMs);
    const hold = new BodyHold(consumer);
    try {
      const body = await readGrpcBody(stream, {
        maxBytes: this.maxBytes,
        readTimeoutMs: this.config.read_timeout,
        hold,
        answer: (a) => this.fail(stream, a),
        timedOut: () => this.connections.timedOut(),
        refused: () => this.metrics.refusedUndecoded(signal),
        shutdown: this.stopReading.signal,
      });
      if (body === undefined || expired) return;
      const message =
        readMessage(body, headers['grpc-encoding'] as string | undefined, this.maxBytes) ??
        Buffer.alloc(0);
      const refused = hold.add(body[0] === 1 ? message.length : 0);
      if (refused) {
        this.metrics.refusedUndecoded(signal);
        return this.fail(stream, answerFor(refused));
      }
      // Refused anyway? Then do not spend the CPU to decode it.
      const refusal = consumer.refusal?.();
      if (refusal) {
        this.metrics.refusedUndecoded(signal);
        return this.fail(stream, answerFor(refusal));
      }
      let decoded;
      try {
        decoded = decodeRequest(signal, message, 'proto', layout);
      } catch (err) {
        return this.fail(stream, answerFor(err));
      }
      const { batch } = decoded;
      try {
        // A request without items is answered at once, as the Collector does: nothing to forward.
        if (batch.items > 0) await consumer.consume(batch);
      } catch (err) {
        this.metrics.refused(signal, batch.items);
        if (!expired) this.fail(stream, answerFor(err));
        return;
      } finally {
        this.metrics.duration(signal, (performance.now() - started) / 1000);
      }
      this.metrics.accepted(signal, batch.items);
      if (decoded.rejected > 0) this.metrics.refused(signal, decoded.rejected);
      if (expired) return;
      const response = exportResponse(
        signal,
        decoded.rejected,
        decoded.rejectedReason,
        false,
      ) as Uint8Array;
      this.succeed(stream, response);
    } catch (err) {
      if (err instanceof GrpcFrameError) return this.fail(stream, grpcError(err.code, err.message));
      throw err;
    } finally {
      clearTimeout(timer);
      hold.release();
    }
  }

  private succeed(stream: http2.ServerHttp2Stream, response: Uint8Array): void {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(OK) }));
    stream.write(framePrefix(response.length, false));
    stream.end(response);
  }

  /** A Trailers-Only answer: the status in the headers, with google.rpc.Status (and RetryInfo). */
  private fail(stream: http2.ServerHttp2Stream, a: Answer): void {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(a.grpc),
        'grpc-message': encodeGrpcMessage(a.message),
        'grpc-status-details-bin': Buffer.from(encodeStatus(a))
          .toString('base64')
          .replace(/=+$/, ''),
      },
      { endStream: true },
    );
    // The client may still be sending (an oversized body): stop reading it.
    if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }
}
