import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { Signal } from '../../src/component/consumer.js';
import { jsonToProto } from '../../src/otlp/json-decode.js';
import { protoToJson } from '../../src/otlp/json-encode.js';
import { validateRequest } from '../../src/otlp/validate.js';
import { exportDefinition } from './grpc-definition.js';
import { hexAt, indexSpans } from '../../src/otlp/trace-index.js';
import {
  encodeStatus,
  exportResponse,
  statusJson,
  type Answer,
} from '../../src/receiver/otlp/status.js';

/**
 * A real OTLP server standing in for Jaeger's OTLP ports (:4317 gRPC, :4318 HTTP), both on
 * 127.0.0.1:0. It records every request and can be told how to answer: an HTTP status with
 * `Retry-After`, a gRPC code with `google.rpc.RetryInfo`, a delay, a partial success. It can stop
 * listening and start again on the same ports, to play "Jaeger is down for a while".
 */

export type Transport = 'grpc' | 'http';

/** How to answer one request. Fields not set mean: success, at once. */
export interface SinkAnswer {
  /** HTTP status (HTTP transport); default 200. */
  readonly http?: number;
  /** The raw `Retry-After` header value (HTTP), e.g. `"3"` or an HTTP-date. */
  readonly retryAfter?: string;
  /** gRPC status code (gRPC transport); default OK. */
  readonly grpc?: grpc.status;
  /** A `google.rpc.RetryInfo` detail in the error (gRPC metadata, HTTP status body). */
  readonly retryDelayMs?: number;
  /** The error message (`google.rpc.Status.message`). */
  readonly message?: string;
  /** Answer after this many (real) milliseconds. */
  readonly delayMs?: number;
  /** Never answer; the call stays open until the sink stops or closes. */
  readonly hang?: boolean;
  /** Accept the request but report these items as rejected (`partial_success`). */
  readonly partialSuccess?: { readonly rejected: number; readonly message: string };
}

/** A server certificate and key (PEM) for TLS mode. */
export interface SinkTls {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface SinkRequest {
  readonly signal: Signal;
  readonly transport: Transport;
  /** `proto` for gRPC and HTTP protobuf, `json` for HTTP JSON. */
  readonly encoding: 'proto' | 'json';
  /** The export request as protobuf (JSON bodies are converted), after decompression. */
  readonly bytes: Buffer;
  /** HTTP headers, or gRPC metadata (lower-case keys). */
  readonly headers: Readonly<Record<string, string>>;
  /** Items (spans, metric points, log records) in the request. */
  readonly items: number;
  /** Whether the sink answered success (200 / OK), i.e. the data counts as delivered. */
  readonly accepted: boolean;
  /** Size of the body on the wire (HTTP only: before decompression). */
  readonly wireBytes: number;
}

export interface SinkSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** As OTLP/JSON writes it: nanoseconds, in decimal. */
  readonly startTimeUnixNano: string;
  readonly attributes: Record<string, unknown>;
}

const HTTP_PATHS: Record<string, Signal> = {
  '/v1/traces': 'traces',
  '/v1/metrics': 'metrics',
  '/v1/logs': 'logs',
};

export class OtlpSink {
  /** Every request received, in arrival order. */
  readonly requests: SinkRequest[] = [];
  private readonly script: Array<{ answer: SinkAnswer; left: number }> = [];
  private grpcServer: grpc.Server | undefined;
  private httpServer: http.Server | undefined;
  private grpcPort = 0;
  private httpPort = 0;
  private readonly waiters = new Set<() => void>();
  private readonly held = new Set<() => void>();
  private readonly distinct = new Set<string>();
  /** Requests already read into `distinct`. */
  private indexed = 0;

  private constructor(private readonly tls: SinkTls | undefined) {}

  /** Starts both servers on 127.0.0.1, on free ports; with `tls`, both speak TLS only. */
  static async start(options: { tls?: SinkTls } = {}): Promise<OtlpSink> {
    const sink = new OtlpSink(options.tls);
    await sink.listen();
    return sink;
  }

  /** `127.0.0.1:PORT` of the gRPC server (the otlp exporter's `endpoint`). */
  get grpcEndpoint(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /** `http://127.0.0.1:PORT` of the HTTP server (the otlphttp exporter's `endpoint`). */
  get httpEndpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.httpPort}`;
  }

  /** Answers the next `times` requests with `answer` (after any answers already programmed). */
  answerNext(times: number, answer: SinkAnswer): this {
    this.script.push({ answer, left: times });
    return this;
  }

  /** Answers every request from now on with `answer`, until `reset()`. */
  answerAll(answer: SinkAnswer): this {
    this.script.length = 0;
    this.script.push({ answer, left: Infinity });
    return this;
  }

  /** Forgets programmed answers (back to plain success) and, optionally, recorded requests. */
  reset(options: { requests?: boolean } = {}): void {
    this.script.length = 0;
    if (options.requests) {
      this.requests.length = 0;
      this.distinct.clear();
      this.indexed = 0;
    }
  }

  /** Requests answered with success. */
  accepted(signal?: Signal): SinkRequest[] {
    return this.requests.filter((r) => r.accepted && (signal === undefined || r.signal === signal));
  }

  /** Items delivered (in accepted requests) for a signal, counting duplicates. */
  items(signal: Signal = 'traces'): number {
    let n = 0;
    for (const r of this.accepted(signal)) n += r.items;
    return n;
  }

  /** Every span delivered, decoded with `protoToJson`, in arrival order. */
  spans(): SinkSpan[] {
    const out: SinkSpan[] = [];
    for (const r of this.accepted('traces')) {
      const doc = protoToJson('traces', r.bytes) as { resourceSpans?: JsonResourceSpans[] };
      for (const rs of doc.resourceSpans ?? []) {
        const resource = attributeMap(rs.resource?.attributes);
        const service = String(resource['service.name'] ?? 'unknown_service');
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            out.push({
              service,
              traceId: s.traceId ?? '',
              spanId: s.spanId ?? '',
              parentSpanId: s.parentSpanId ?? '',
              name: s.name ?? '',
              startTimeUnixNano: s.startTimeUnixNano ?? '0',
              attributes: attributeMap(s.attributes),
            });
          }
        }
      }
    }
    return out;
  }

  /** The span ids delivered, in arrival order (duplicates kept, so tests can see them). */
  spanIds(): string[] {
    return this.spans().map((s) => s.spanId);
  }

  /** Resolves once `n` items of `signal` have been delivered; rejects after `timeoutMs`. */
  waitFor(n: number, signal: Signal = 'traces', timeoutMs = 10_000): Promise<void> {
    return this.until(
      () => this.items(signal) >= n,
      () => `the sink received ${this.items(signal)} of ${n} ${signal} items`,
      timeoutMs,
    );
  }

  /**
   * The distinct span ids delivered so far. Each accepted request is indexed once, when this is
   * next called (a retried request delivers some ids twice: they count once here).
   */
  deliveredSpanIds(): ReadonlySet<string> {
    for (; this.indexed < this.requests.length; this.indexed++) {
      const r = this.requests[this.indexed]!;
      if (!r.accepted || r.signal !== 'traces') continue;
      for (const s of indexSpans(r.bytes).spans) this.distinct.add(hexAt(r.bytes, s.spanIdAt, 8));
    }
    return this.distinct;
  }

  /**
   * Resolves once every span id in `ids` has been delivered; rejects after `timeoutMs`. Unlike
   * `waitFor(n)`, duplicates (a request retried after its answer was lost) cannot end the wait
   * before the last span lands.
   */
  waitForSpans(ids: ReadonlySet<string>, timeoutMs = 10_000): Promise<void> {
    const missing = () => {
      const got = this.deliveredSpanIds();
      let n = 0;
      for (const id of ids) if (!got.has(id)) n++;
      return n;
    };
    return this.until(
      () => missing() === 0,
      () => `the sink has ${ids.size - missing()} of the ${ids.size} span ids awaited`,
      timeoutMs,
    );
  }

  /** Resolves once `n` requests (answered or not) have arrived. */
  waitForRequests(n: number, timeoutMs = 10_000): Promise<void> {
    return this.until(
      () => this.requests.length >= n,
      () => `the sink received ${this.requests.length} of ${n} requests`,
      timeoutMs,
    );
  }

  /** Stops listening (connections are cut, held answers released): "Jaeger is down". */
  async stop(): Promise<void> {
    for (const release of this.held) release();
    this.held.clear();
    const g = this.grpcServer;
    const h = this.httpServer;
    this.grpcServer = undefined;
    this.httpServer = undefined;
    g?.forceShutdown();
    if (h) {
      const closed = new Promise<void>((resolve) => h.close(() => resolve()));
      h.closeAllConnections();
      await closed;
    }
  }

  /** Listens again on the same ports: "Jaeger is back". */
  async restart(): Promise<void> {
    if (this.grpcServer || this.httpServer) throw new Error('the sink is already listening');
    await this.listen();
  }

  async close(): Promise<void> {
    await this.stop();
    this.notify();
  }

  private async listen(): Promise<void> {
    const server = new grpc.Server();
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      server.addService(exportDefinition(signal), {
        Export: (
          call: grpc.ServerUnaryCall<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          void this.onGrpc(signal, call, callback);
        },
      });
    }
    this.grpcPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${this.grpcPort}`,
        this.tls
          ? grpc.ServerCredentials.createSsl(null, [
              { cert_chain: this.tls.cert, private_key: this.tls.key },
            ])
          : grpc.ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    this.grpcServer = server;

    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.onHttp(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
      });
    };
    const httpServer = this.tls
      ? https.createServer({ cert: this.tls.cert, key: this.tls.key }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(this.httpPort, '127.0.0.1', () => resolve());
    });
    this.httpPort = (httpServer.address() as AddressInfo).port;
    this.httpServer = httpServer;
  }

  private nextAnswer(): SinkAnswer {
    const head = this.script[0];
    if (!head) return {};
    if (--head.left <= 0) this.script.shift();
    return head.answer;
  }

  private async onGrpc(
    signal: Signal,
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
    callback: grpc.sendUnaryData<Buffer>,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
    const meta = { signal, transport: 'grpc', encoding: 'proto', headers } as const;
    const admitted = this.admit(meta, call.request, () => call.request);
    if ('invalid' in admitted) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: admitted.invalid });
      return;
    }
    const { answer } = admitted;
    if (!(await this.delay(answer))) return;
    const code = answer.grpc ?? grpc.status.OK;
    if (code === grpc.status.OK) {
      const p = answer.partialSuccess;
      const body = exportResponse(signal, p?.rejected ?? 0, p?.message, false) as Uint8Array;
      callback(null, Buffer.from(body));
      return;
    }
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus(statusAnswer(answer, code))));
    callback({ code, details: answer.message ?? `sink answered ${grpc.status[code]}`, metadata });
  }

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const signal = HTTP_PATHS[req.url ?? ''];
    if (req.method !== 'POST' || signal === undefined) {
      res.writeHead(404).end('404 page not found');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const json = (headers['content-type'] ?? '').startsWith('application/json');
    const meta = { signal, transport: 'http', encoding: json ? 'json' : 'proto', headers } as const;
    const admitted = this.admit(meta, raw, () => {
      const body = headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
      return json ? Buffer.from(jsonToProto(signal, body.toString('utf8'))) : body;
    });
    if ('invalid' in admitted) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(admitted.invalid);
      return;
    }
    const { answer } = admitted;
    if (!(await this.delay(answer))) return;
    const status = answer.http ?? 200;
    const contentType = json ? 'application/json' : 'application/x-protobuf';
    if (status === 200) {
      const p = answer.partialSuccess;
      const body = exportResponse(signal, p?.rejected ?? 0, p?.message, json);
      res.writeHead(200, { 'Content-Type': contentType }).end(body);
      return;
    }
    const out: Record<string, string> = { 'Content-Type': contentType };
    if (answer.retryAfter !== undefined) out['Retry-After'] = answer.retryAfter;
    const a = statusAnswer(answer, grpc.status.UNKNOWN, status);
    res.writeHead(status, out).end(json ? statusJson(a) : encodeStatus(a));
  }

  /**
   * Decodes, validates and records a request, as a real server would; returns the programmed answer
   * to give, or why the request is invalid (answered 400 / INVALID_ARGUMENT).
   */
  private admit(
    meta: Pick<SinkRequest, 'signal' | 'transport' | 'encoding' | 'headers'>,
    raw: Buffer,
    decode: () => Buffer,
  ): { answer: SinkAnswer } | { invalid: string } {
    let bytes = raw;
    let items: number;
    try {
      bytes = decode();
      items = validateRequest(meta.signal, bytes).items;
    } catch (err) {
      this.record({ ...meta, bytes, items: 0, accepted: false, wireBytes: raw.length });
      return { invalid: `invalid request: ${String(err)}` };
    }
    const answer = this.nextAnswer();
    const accepted =
      meta.transport === 'grpc'
        ? (answer.grpc ?? grpc.status.OK) === grpc.status.OK
        : (answer.http ?? 200) === 200;
    this.record({ ...meta, bytes, items, accepted, wireBytes: raw.length });
    return { answer };
  }

  /** Waits as the answer says; false when the sink stopped meanwhile (no answer to send). */
  private delay(answer: SinkAnswer): Promise<boolean> {
    if (!answer.hang && !answer.delayMs) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        this.held.delete(release);
        resolve(false);
      };
      const timer = answer.hang
        ? undefined
        : setTimeout(() => {
            this.held.delete(release);
            resolve(true);
          }, answer.delayMs);
      this.held.add(release);
    });
  }

  private record(r: SinkRequest): void {
    this.requests.push(r);
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private until(done: () => boolean, state: () => string, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms: ${state()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

function statusAnswer(answer: SinkAnswer, code: grpc.status, http = 200): Answer {
  return {
    http,
    grpc: code,
    message: answer.message ?? `sink answered ${http === 200 ? grpc.status[code] : http}`,
    retryAfterMs: answer.retryDelayMs,
  };
}

interface JsonKeyValue {
  key: string;
  value?: Record<string, unknown>;
}

interface JsonResourceSpans {
  resource?: { attributes?: JsonKeyValue[] };
  scopeSpans?: Array<{
    spans?: Array<{
      traceId?: string;
      spanId?: string;
      parentSpanId?: string;
      name?: string;
      startTimeUnixNano?: string;
      attributes?: JsonKeyValue[];
    }>;
  }>;
}

/** OTLP/JSON attributes as a plain map (`{ "anomaly.severity": "SEV2", "http.status": "200" }`). */
function attributeMap(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] =
      v['stringValue'] ??
      v['intValue'] ??
      v['doubleValue'] ??
      v['boolValue'] ??
      v['arrayValue'] ??
      v['kvlistValue'] ??
      v['bytesValue'];
  }
  return out;
}
