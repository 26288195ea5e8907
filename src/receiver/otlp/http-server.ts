import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerAuthenticator } from '../../component/auth.js';
import type { Consumer, Signal } from '../../component/consumer.js';
import { RefusedError, UnavailableError } from '../../component/errors.js';
import { listen } from '../../net/listen.js';
import { serverTlsOptions } from '../../config/tls.js';
import { maxJsonValues } from '../../otlp/json-bounds.js';
import type { ReceiverMetrics } from '../../telemetry/self-metrics.js';
import { readBody } from './body.js';
import { BodyHold } from './body-hold.js';
import type { HttpConfig } from './config.js';
import type { ConnectionMetrics } from '../../net/connections.js';
import { guardHttpServer } from '../../net/http-guard.js';
import { decodeRequest, type Encoding } from './decode.js';
import {
  answerFor,
  encodeStatus,
  exportResponse,
  retryAfterSeconds,
  statusJson,
  type Answer,
} from './status.js';

const CONTENT_TYPE: Record<Encoding, string> = {
  proto: 'application/x-protobuf',
  json: 'application/json',
};

/**
 * OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with `application/x-protobuf` or
 * `application/json` bodies, optionally gzip- or deflate-compressed; answers in the request's
 * content type. Only signals that have a pipeline are served; the others answer 404, as the
 * Collector's receiver does when a signal has no pipeline.
 */
export class OtlpHttpServer {
  private server: http.Server | undefined;
  private readonly routes = new Map<string, Signal>();
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private closing = false;
  /** Aborted at shutdown: bodies still arriving are cut (see `shutdown`). */
  private readonly stopReading = new AbortController();
  /** Record span layouts of trace requests (a pipeline reads them). */
  private readonly layout: boolean;
  private readonly jsonMaxValues: number;

  constructor(
    private readonly config: HttpConfig,
    private readonly next: Partial<Record<Signal, Consumer>>,
    private readonly logger: Logger,
    private readonly metrics: ReceiverMetrics,
    private readonly auth: ServerAuthenticator | undefined,
    private readonly connections: ConnectionMetrics,
  ) {
    this.routes.set(config.traces_url_path, 'traces');
    this.routes.set(config.metrics_url_path, 'metrics');
    this.routes.set(config.logs_url_path, 'logs');
    // Whether to record span layouts is settled once: the pipelines are built before receivers.
    this.layout = next.traces?.readsSpanLayout?.() === true;
    this.jsonMaxValues = maxJsonValues(config.max_request_body_size);
  }

  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.inFlight++;
      this.handle(req, res)
        .catch((err: unknown) => {
          this.logger.error({ err }, 'unexpected error handling an OTLP/HTTP request');
          if (!res.headersSent) res.writeHead(500).end();
        })
        .finally(() => {
          if (--this.inFlight === 0) this.drained?.();
        });
    };
    const { read_header_timeout: header, read_timeout: body, idle_timeout: idle } = this.config;
    const options: http.ServerOptions = {
      // Node checks headersTimeout and requestTimeout this often (30 s by default).
      connectionsCheckingInterval: 1000,
      headersTimeout: body > 0 && header > 0 ? Math.min(header, body) : header,
      requestTimeout: body,
      keepAliveTimeout: idle,
    };
    const server = this.config.tls
      ? https.createServer(
          { ...serverTlsOptions(this.config.tls), ...options, handshakeTimeout: header || 120_000 },
          handler,
        )
      : http.createServer(options, handler);
    guardHttpServer(server, this.config, this.connections);
    await listen(server, this.config.endpoint, 'OTLP/HTTP');
    // Past listening, an error (EMFILE accepting a connection) must not crash the process.
    let told = false;
    server.on('error', (err) => {
      if (!told) this.logger.warn({ err }, '%s server error; still serving', 'OTLP/HTTP');
      told = true;
    });
    this.server = server;
  }

  /** The bound address (`127.0.0.1:4318`), useful when the configured port is 0. */
  address(): string | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** Stops accepting connections and waits for requests in flight to be answered. */
  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.closing = true;
    // Bodies still arriving are answered 503 (nothing of theirs was accepted; the client sends
    // again): once closed, Node no longer checks requestTimeout, so a body trickling in held the
    // shutdown, and the drain of everything accepted behind it, for as long as the client liked.
    this.stopReading.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    server.closeIdleConnections();
    await closed;
    this.server = undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    if (this.closing) res.setHeader('Connection', 'close');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const signal = this.routes.get(q < 0 ? url : url.slice(0, q));
    const consumer = signal === undefined ? undefined : this.next[signal];
    if (signal === undefined || consumer === undefined) {
      return plain(res, 404, '404 page not found');
    }
    const cors = this.config.cors;
    if (cors) this.corsHeaders(req, res);
    if (req.method === 'OPTIONS' && cors) {
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return plain(res, 405, '405 method not allowed, supported: [POST]');
    }
    const encoding = encodingOf(req.headers['content-type']);
    if (encoding === undefined) {
      return plain(
        res,
        415,
        '415 unsupported media type, supported: [application/json, application/x-protobuf]',
      );
    }
    if (this.auth && !this.auth.authenticate(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return answer(res, encoding, {
        http: 401,
        grpc: 16,
        message: 'missing or invalid bearer token',
        retryAfterMs: undefined,
      });
    }

    // Refused anyway? Then answer before reading the body, and close (it is left unread).
    const early = consumer.refusal?.();
    if (early) {
      this.metrics.refusedUndecoded(signal);
      res.setHeader('Connection', 'close');
      return answer(res, encoding, answerFor(early));
    }
    const hold = new BodyHold(consumer);
    try {
      await this.receive(req, res, signal, consumer, encoding, hold, started);
    } finally {
      hold.release();
    }
  }

  private async receive(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    signal: Signal,
    consumer: Consumer,
    encoding: Encoding,
    hold: BodyHold,
    started: number,
  ): Promise<void> {
    let decoded;
    try {
      const body = await readBody(
        req,
        this.config.max_request_body_size,
        hold,
        this.stopReading.signal,
      );
      // Refused anyway? Then do not spend the CPU to decode it.
      const refusal = consumer.refusal?.();
      if (refusal) {
        this.metrics.refusedUndecoded(signal);
        return answer(res, encoding, answerFor(refusal));
      }
      // A large body is decoded in one go: let waiting I/O (other clients, /healthz) run first.
      if (body.length > YIELD_ABOVE_BYTES) await new Promise((resolve) => setImmediate(resolve));
      decoded = decodeRequest(signal, body, encoding, this.layout, this.jsonMaxValues);
    } catch (err) {
      const a = answerFor(err);
      if (a.http === 413) res.setHeader('Connection', 'close');
      if (err instanceof RefusedError || err instanceof UnavailableError) {
        // Refused (or shut down) while the body arrived: the rest of it is not read.
        this.metrics.refusedUndecoded(signal);
        res.setHeader('Connection', 'close');
      }
      return answer(res, encoding, a);
    }
    const { batch } = decoded;
    try {
      // A request without items is answered at once, as the Collector does: nothing to forward.
      if (batch.items > 0) await consumer.consume(batch);
    } catch (err) {
      this.metrics.refused(signal, batch.items);
      return answer(res, encoding, answerFor(err));
    } finally {
      this.metrics.duration(signal, (performance.now() - started) / 1000);
    }
    this.metrics.accepted(signal, batch.items);
    if (decoded.rejected > 0) this.metrics.refused(signal, decoded.rejected);
    const body = exportResponse(
      signal,
      decoded.rejected,
      decoded.rejectedReason,
      encoding === 'json',
    );
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE[encoding] }).end(body);
  }

  private corsHeaders(req: http.IncomingMessage, res: http.ServerResponse): void {
    const cors = this.config.cors!;
    const origin = req.headers.origin;
    if (!origin) return;
    const allowed = cors.allowed_origins.some(
      (o) => o === '*' || o === origin || (o.includes('*') && wildcard(o).test(origin)),
    );
    if (!allowed) return;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader(
        'Access-Control-Allow-Headers',
        ['Content-Type', 'Content-Encoding', ...cors.allowed_headers].join(', '),
      );
      if (cors.max_age > 0) res.setHeader('Access-Control-Max-Age', String(cors.max_age));
    }
  }
}

/** Bodies above this are decoded on a later turn of the event loop. */
const YIELD_ABOVE_BYTES = 1024 * 1024;

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function encodingOf(contentType: string | undefined): Encoding | undefined {
  if (!contentType) return undefined;
  const semi = contentType.indexOf(';');
  const media = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (media === 'application/x-protobuf') return 'proto';
  if (media === 'application/json') return 'json';
  return undefined;
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain' }).end(text);
}

function answer(res: http.ServerResponse, encoding: Encoding, a: Answer): void {
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPE[encoding] };
  if (a.retryAfterMs !== undefined && (a.http === 429 || a.http === 503)) {
    headers['Retry-After'] = retryAfterSeconds(a.retryAfterMs);
  }
  res.writeHead(a.http, headers).end(encoding === 'json' ? statusJson(a) : encodeStatus(a));
}
