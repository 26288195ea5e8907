import { request } from 'undici';
import { toRequests } from './otlp-json.js';

export interface JaegerQuery {
  /** The Jaeger query service, e.g. `http://jaeger:16686`. */
  readonly baseUrl: string;
  /** Services to read; every service Jaeger knows when empty. */
  readonly services: readonly string[];
  readonly operation?: string | undefined;
  readonly startMs: number;
  readonly endMs: number;
  /** Length of one query's time range (the API returns at most `numTraces` traces per query). */
  readonly stepMs: number;
  readonly numTraces: number;
  readonly timeoutMs: number;
}

export interface JaegerChunk {
  readonly service: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** Encoded ExportTraceServiceRequests. */
  readonly requests: Uint8Array[];
}

const MAX_BODY = 256 * 1024 * 1024;

/**
 * Reads traces from Jaeger's query API v3 (`GET /api/v3/traces` with `query.service_name`,
 * `query.start_time_min` and `query.start_time_max` in RFC 3339), one service and one time step
 * at a time. Jaeger answers OTLP/JSON wrapped in `{"result": ...}` (possibly several such objects
 * in one body), or 404 when nothing was found.
 */
export async function* queryJaeger(q: JaegerQuery): AsyncGenerator<JaegerChunk> {
  const base = q.baseUrl.replace(/\/+$/, '');
  const services = q.services.length > 0 ? q.services : await listServices(base, q.timeoutMs);
  for (const service of services) {
    for (let from = q.startMs; from < q.endMs; from += q.stepMs) {
      const to = Math.min(q.endMs, from + q.stepMs);
      const params = new URLSearchParams({
        'query.service_name': service,
        'query.start_time_min': new Date(from).toISOString(),
        'query.start_time_max': new Date(to).toISOString(),
        'query.num_traces': String(q.numTraces),
      });
      if (q.operation) params.set('query.operation_name', q.operation);
      const url = `${base}/api/v3/traces?${params.toString()}`;
      const { status, text } = await get(url, q.timeoutMs);
      if (status === 404 && isNothingFound(text)) continue;
      if (status !== 200)
        throw new Error(`Jaeger answered ${status} to ${url}: ${errorMessage(text)}`);
      yield { service, fromMs: from, toMs: to, requests: parseResults(text, url) };
    }
  }
}

async function listServices(base: string, timeoutMs: number): Promise<string[]> {
  const url = `${base}/api/v3/services`;
  const { status, text } = await get(url, timeoutMs);
  if (status !== 200) throw new Error(`Jaeger answered ${status} to ${url}: ${errorMessage(text)}`);
  const services = (JSON.parse(text) as { services?: unknown }).services;
  if (!Array.isArray(services)) throw new Error(`${url}: expected {"services": [...]}`);
  return services.filter((s): s is string => typeof s === 'string');
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  let res;
  try {
    res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  } catch (err) {
    throw new Error(
      `cannot reach Jaeger at ${url}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      res.body.destroy();
      throw new Error(
        `${url}: the answer is larger than ${MAX_BODY / 1024 / 1024} MiB; use a smaller --step or --num-traces`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return { status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') };
}

/** One JSON object, or several concatenated / one per line (a streamed answer). */
function parseResults(text: string, url: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const doc of jsonValues(text, url)) {
    const obj = doc as Record<string, unknown>;
    if (obj && typeof obj === 'object' && 'error' in obj) {
      throw new Error(`${url}: Jaeger reported an error: ${JSON.stringify(obj['error'])}`);
    }
    for (const request of toRequests(doc, url)) out.push(request); // not push(...): see otlp-json.ts
  }
  return out;
}

/** The top-level JSON values of `text`, which may hold several (a streamed answer). */
function jsonValues(text: string, url: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let begin = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth++ === 0) begin = i;
    } else if (ch === '}' || ch === ']') {
      if (--depth === 0) {
        const part = text.slice(begin, i + 1);
        try {
          out.push(JSON.parse(part));
        } catch (err) {
          throw new Error(
            `${url}: value ${out.length + 1} of the answer is not JSON (${err instanceof Error ? err.message : String(err)})`,
          );
        }
      }
    }
  }
  if (depth !== 0 || inString)
    throw new Error(`${url}: the answer ends in the middle of a JSON value`);
  return out;
}

/** Jaeger's "No traces found" answer (a 404 with its JSON error), not a wrong URL's 404. */
function isNothingFound(text: string): boolean {
  try {
    return (JSON.parse(text) as { error?: { httpCode?: number } }).error?.httpCode === 404;
  } catch {
    return false;
  }
}

function errorMessage(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: { message?: string } }).error;
    if (e?.message) return e.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
