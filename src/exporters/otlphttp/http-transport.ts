import { Readable } from 'node:stream';
import { gzipParts } from '../helper/compression.js';
import { Pool } from 'undici';
import { timerMs, type Clock } from '../../component/clock.js';
import { errorMessage } from '../../component/errors.js';
import { partsOf, type OtlpBatch, type Signal } from '../../component/consumer.js';
import { clientTlsOptions } from '../../config/tls.js';
import { protoToJson } from '../../otlp/json-encode.js';
import { retryable, type ExportResult } from '../helper/export-result.js';
import { redactUrlCredentials } from '../../telemetry/redact-url.js';
import type { AttemptInfo, ExportTransport } from '../helper/transport.js';
import type { OtlpHttpExporterConfig } from './config.js';
import { httpResult } from './http-status.js';

/** Response bodies are read up to this size (an export response is tiny; the rest is dropped). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * OTLP/HTTP: POSTs the request (protobuf as received, or OTLP/JSON) to one URL through an undici
 * Pool for its origin, with at most `max_conns_per_host` connections. Each attempt is bounded by
 * `timeout`; connection errors and timeouts are retryable.
 */
export class HttpTransport implements ExportTransport {
  readonly endpoint: string;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly closing = new AbortController();

  constructor(
    private readonly config: OtlpHttpExporterConfig,
    private readonly signal: Signal,
    url: string,
    private readonly clock: Clock,
  ) {
    const target = new URL(url);
    this.endpoint = redactUrlCredentials(url);
    this.path = `${target.pathname}${target.search}`;
    const tls =
      target.protocol === 'https:'
        ? clientTlsOptions({ ...config.tls, insecure: false })
        : undefined;
    this.pool = new Pool(target.origin, {
      connections: config.max_conns_per_host,
      connect: tls
        ? {
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            rejectUnauthorized: tls.rejectUnauthorized,
            servername: tls.servername,
            minVersion: tls.minVersion,
          }
        : undefined,
    });
    this.headers = {
      ...Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v])),
      'content-type': config.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      'user-agent': 'hourglass',
    };
    if (config.compression === 'gzip') this.headers['content-encoding'] = 'gzip';
    // Credentials in the URL are sent as Basic auth, as Go's HTTP client (the Collector's) does.
    if (target.username !== '' && this.headers['authorization'] === undefined) {
      const user = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
      this.headers['authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
    }
  }

  async send(batch: OtlpBatch, attempt: AttemptInfo): Promise<ExportResult> {
    let body: readonly Uint8Array[] =
      this.config.encoding === 'json'
        ? [Buffer.from(JSON.stringify(protoToJson(this.signal, batch.bytes)))]
        : partsOf(batch);
    if (this.config.compression === 'gzip') {
      body = [await gzipParts(body, this.config.compression_params.level)];
    }
    let length = 0;
    for (const part of body) length += part.length;
    const timeout = AbortSignal.timeout(timerMs(attempt.timeoutMs));
    const signal = AbortSignal.any([timeout, this.closing.signal]);
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { ...this.headers, 'content-length': String(length) },
        // Uncompressed, the parts of a batch are written one after the other, never concatenated.
        body: body.length === 1 ? body[0]! : Readable.from(body, { objectMode: false }),
        signal,
      });
      const contentType = String(res.headers['content-type'] ?? '');
      const retryAfter = res.headers['retry-after'];
      const answer = await readCapped(res.body, MAX_RESPONSE_BYTES);
      return httpResult(
        {
          status: res.statusCode,
          contentType,
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          body: answer,
        },
        this.clock.now(),
      );
    } catch (err) {
      if (timeout.aborted) {
        return retryable(
          'timeout',
          `no answer within the timeout of ${attempt.timeoutMs} ms`,
          undefined,
          err,
        );
      }
      return retryable(networkReason(err), errorMessage(causeOf(err)), undefined, err);
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.pool.destroy();
  }
}

/** Reads a body up to `limit` bytes, then stops reading (the connection is dropped if more came). */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.length >= room) {
      chunks.push(chunk.subarray(0, room));
      body.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks);
}

/** Network errors often wrap the useful one (`fetch failed` <- `connect ECONNREFUSED ...`). */
function causeOf(err: unknown): unknown {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e;
}

function networkReason(err: unknown): string {
  const code = (causeOf(err) as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'network';
}
