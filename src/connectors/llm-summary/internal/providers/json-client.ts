import { Pool } from 'undici';
import type { Clock } from '../../../../component/clock.js';
import { errorMessage } from '../../../../component/errors.js';
import { ProviderError, preview, type ProviderSettings } from './provider.js';

/** A response being read: its status and its body, as text or as lines, within the size cap. */
export interface JsonResponse {
  readonly status: number;
  text(): Promise<string>;
  lines(): AsyncIterable<string>;
}

/**
 * JSON over HTTP to a model server (or a webhook, or Prometheus) through an undici Pool (at most `connections` at once). Each
 * request, reading its whole answer included, ends at `timeoutMs` on the injected clock (so tests
 * drive it with a fake clock), or when the caller aborts, or when the client closes. Answers are
 * read up to `maxResponseBytes`. Every failure is a `ProviderError` saying what happened.
 */
export class JsonClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly closing = new AbortController();

  constructor(
    endpoint: string,
    private readonly options: {
      readonly headers: Readonly<Record<string, string>>;
      readonly timeoutMs: number;
      readonly maxResponseBytes: number;
      readonly connections: number;
    },
    private readonly clock: Clock,
  ) {
    const url = new URL(endpoint);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      // Backstops on real time; the deadline below is what normally ends a request.
      headersTimeout: options.timeoutMs + 1000,
      bodyTimeout: options.timeoutMs + 1000,
    });
  }

  /** The path of `suffix` under the endpoint's own path (`/v1` + `/chat/completions`). */
  pathOf(suffix: string): string {
    return `${this.basePath}${suffix}`;
  }

  /** POSTs `body` as JSON; `read` reads the answer. */
  post<T>(
    path: string,
    body: unknown,
    signal: AbortSignal,
    read: (res: JsonResponse) => Promise<T>,
  ): Promise<T> {
    return this.send('POST', path, JSON.stringify(body), signal, read);
  }

  /** GETs `path` (with its query string). */
  get<T>(path: string, signal: AbortSignal, read: (res: JsonResponse) => Promise<T>): Promise<T> {
    return this.send('GET', path, undefined, signal, read);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal: AbortSignal,
    read: (res: JsonResponse) => Promise<T>,
  ): Promise<T> {
    const deadline = new AbortController();
    const timer = this.clock.setTimeout(() => deadline.abort(), this.options.timeoutMs);
    const abort = AbortSignal.any([deadline.signal, signal, this.closing.signal]);
    try {
      const res = await this.pool.request({
        path,
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          accept: 'application/json',
          ...this.options.headers,
        },
        body,
        signal: abort,
      });
      const limit = this.options.maxResponseBytes;
      return await read({
        status: res.statusCode,
        text: () => readCapped(res.body, limit),
        lines: () => splitLines(res.body, limit),
      });
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      if (deadline.signal.aborted) {
        throw new ProviderError(
          'timeout',
          `no complete answer within ${this.options.timeoutMs} ms`,
        );
      }
      if (abort.aborted) throw new ProviderError('network', 'the request was cancelled');
      throw new ProviderError('network', networkMessage(err), undefined, { cause: err });
    } finally {
      timer.cancel();
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.pool.destroy();
  }
}

type Body = AsyncIterable<Buffer> & { destroy(): unknown };

async function readCapped(body: Body, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new ProviderError('malformed', `the answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The body's lines (without their line ends), as they arrive. */
async function* splitLines(body: Body, limit: number): AsyncGenerator<string> {
  let size = 0;
  let rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new ProviderError('malformed', `the answer is larger than ${limit} bytes`);
    }
    rest += decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      yield rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
    }
  }
  rest += decoder.decode();
  if (rest !== '') yield rest.replace(/\r$/, '');
}

/** An HTTP error status with what the server said (its `error` field, or the start of the body). */
export function httpError(status: number, text: string): ProviderError {
  let said = preview(text);
  try {
    const body = JSON.parse(text) as { error?: unknown };
    const e = body.error;
    if (typeof e === 'string') said = JSON.stringify(e);
    else if (
      e &&
      typeof e === 'object' &&
      typeof (e as { message?: unknown }).message === 'string'
    ) {
      said = JSON.stringify((e as { message: string }).message);
    }
  } catch {
    // not JSON: the preview of the text stands
  }
  return new ProviderError('http', `HTTP ${status}: ${said}`, status);
}

function networkMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code ? `${code}: ${errorMessage(e)}` : errorMessage(e);
}

/** The HTTP client of a provider: its endpoint, headers (with the API key), timeout and caps. */
export function providerClient(settings: ProviderSettings, clock: Clock): JsonClient {
  return new JsonClient(
    settings.endpoint,
    {
      headers: {
        ...settings.headers,
        ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
      },
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: settings.maxResponseBytes,
      connections: settings.connections,
    },
    clock,
  );
}
