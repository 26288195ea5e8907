import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach } from 'vitest';

/**
 * A real HTTP server standing in for an LLM server, speaking both Ollama's native API
 * (`POST /api/generate`, `POST /api/chat`; streaming by default, as Ollama does, NDJSON lines
 * ending with `"done": true`) and the OpenAI chat completions API (`POST /v1/chat/completions`;
 * not streaming by default; streaming as server-sent `data:` chunks ending with `data: [DONE]`,
 * usage in a last chunk with empty `choices` when `stream_options.include_usage` is set), with
 * their real field names, content types and error bodies. It records every request and answers
 * as told: a text, an HTTP error, a malformed body, a stream cut short, or no answer at all until
 * released (a slow model). Token counts are the number of words.
 */

export type LlmBehaviour =
  | { readonly kind: 'answer'; readonly text?: string }
  | { readonly kind: 'status'; readonly status: number; readonly message?: string }
  | { readonly kind: 'malformed'; readonly body?: string }
  /** Streams part of the answer, then ends the response without the final line / [DONE]. */
  | { readonly kind: 'truncated' }
  /** Sends nothing (not even headers) until `release()` or the server closes. */
  | { readonly kind: 'hang' }
  /** Sends the headers and the first piece, then waits for `release()` before the rest. */
  | { readonly kind: 'stall' };

export interface LlmRequest {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, any>;
  readonly raw: string;
}

export class LlmServer {
  readonly requests: LlmRequest[] = [];
  /** Answer text when a behaviour does not give one. */
  defaultText = 'payments POST /charge is slow on its own; CPU is 0.1%, so CPU is not the cause.';
  /** When set, OpenAI requests need `Authorization: Bearer <apiKey>`. */
  apiKey: string | undefined;
  private queue: LlmBehaviour[] = [];
  private always: LlmBehaviour = { kind: 'answer' };
  private held: (() => void)[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<LlmServer> {
    const server = http.createServer();
    const llm = new LlmServer(server);
    server.on('request', (req, res) => {
      llm.handle(req, res).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return llm;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** How the next `times` requests are answered. */
  next(times: number, b: LlmBehaviour): this {
    for (let i = 0; i < times; i++) this.queue.push(b);
    return this;
  }

  /** How every request is answered once the queue is empty. */
  answerAll(b: LlmBehaviour): this {
    this.always = b;
    return this;
  }

  /** Lets every hanging or stalled answer go on. */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  /** Answers held right now (hanging or stalled). */
  get waiting(): number {
    return this.held.length;
  }

  waitForRequests(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    let body: Record<string, any> = {};
    try {
      body = JSON.parse(raw) as Record<string, any>;
    } catch {
      // answered below as the real servers do
    }
    this.requests.push({ path, headers: req.headers, body, raw });
    this.waiters = this.waiters.filter((w) =>
      w.n <= this.requests.length ? (w.resolve(), false) : true,
    );
    const api =
      path === '/api/generate' || path === '/api/chat'
        ? 'ollama'
        : path.endsWith('/chat/completions')
          ? 'openai'
          : undefined;
    if (!api || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
      return;
    }
    if (api === 'openai' && this.apiKey && req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return this.openAiError(res, 401, 'Incorrect API key provided', 'invalid_request_error');
    }
    const b = this.queue.shift() ?? this.always;
    if (b.kind === 'hang') await this.hold();
    if (b.kind === 'status') {
      const message = b.message ?? 'the model runner crashed';
      if (api === 'ollama') {
        res.writeHead(b.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: message }));
        return;
      }
      return this.openAiError(res, b.status, message, 'server_error');
    }
    if (b.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(b.body ?? '{"model": "llama3.2:1b", "respo');
      return;
    }
    const text = (b.kind === 'answer' ? b.text : undefined) ?? this.defaultText;
    const promptText =
      api === 'ollama' && path === '/api/generate'
        ? `${body['system'] ?? ''} ${body['prompt'] ?? ''}`
        : ((body['messages'] ?? []) as { content: string }[]).map((m) => m.content).join(' ');
    const usage = { prompt: words(promptText), completion: words(text) };
    const model = String(body['model'] ?? '');
    const stream = api === 'ollama' ? body['stream'] !== false : body['stream'] === true;
    const pieces = text.split(/(?<= )/);
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(this.whole(api, path, model, text, usage)));
      return;
    }
    const wire =
      api === 'ollama'
        ? ollamaStream(path, model, pieces, usage)
        : openAiStream(body, model, pieces, usage);
    res.writeHead(200, {
      'content-type': api === 'ollama' ? 'application/x-ndjson' : 'text/event-stream',
      ...(api === 'openai' ? { 'cache-control': 'no-cache' } : {}),
    });
    for (let i = 0; i < wire.length; i++) {
      // Cut short: half the text, without the final line (Ollama) or the stop chunk and [DONE].
      if (b.kind === 'truncated' && i >= Math.max(1, Math.floor(pieces.length / 2))) break;
      res.write(wire[i]);
      if (b.kind === 'stall' && i === 0) await this.hold();
    }
    res.end();
  }

  private hold(): Promise<void> {
    return new Promise((resolve) => this.held.push(resolve));
  }

  private whole(api: 'ollama' | 'openai', path: string, model: string, text: string, u: Usage) {
    if (api === 'ollama') {
      const content =
        path === '/api/generate'
          ? { response: text }
          : { message: { role: 'assistant', content: text } };
      return { model, created_at: new Date().toISOString(), ...content, ...ollamaDone(u) };
    }
    return {
      id: 'chatcmpl-test1',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: u.prompt,
        completion_tokens: u.completion,
        total_tokens: u.prompt + u.completion,
      },
    };
  }

  private openAiError(
    res: http.ServerResponse,
    status: number,
    message: string,
    type: string,
  ): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type, param: null, code: null } }));
  }
}

interface Usage {
  readonly prompt: number;
  readonly completion: number;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

function ollamaDone(u: Usage) {
  return {
    done: true,
    done_reason: 'stop',
    total_duration: 1_234_567_890,
    load_duration: 12_345_678,
    prompt_eval_count: u.prompt,
    prompt_eval_duration: 123_456_789,
    eval_count: u.completion,
    eval_duration: 987_654_321,
  };
}

function ollamaStream(path: string, model: string, pieces: string[], u: Usage): string[] {
  const at = () => new Date().toISOString();
  const part = (s: string) =>
    path === '/api/generate' ? { response: s } : { message: { role: 'assistant', content: s } };
  return [
    ...pieces.map(
      (p) => `${JSON.stringify({ model, created_at: at(), ...part(p), done: false })}\n`,
    ),
    `${JSON.stringify({ model, created_at: at(), ...part(''), ...ollamaDone(u) })}\n`,
  ];
}

function openAiStream(
  body: Record<string, any>,
  model: string,
  pieces: string[],
  u: Usage,
): string[] {
  const base = {
    id: 'chatcmpl-test2',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const event = (x: unknown) => `data: ${JSON.stringify(x)}\n\n`;
  const choice = (delta: object, finish: string | null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  const out = [
    event({ ...base, choices: [choice({ role: 'assistant', content: '' }, null)] }),
    ...pieces.map((p) => event({ ...base, choices: [choice({ content: p }, null)] })),
    event({ ...base, choices: [choice({}, 'stop')] }),
  ];
  if (body['stream_options']?.include_usage === true) {
    out.push(
      event({
        ...base,
        choices: [],
        usage: {
          prompt_tokens: u.prompt,
          completion_tokens: u.completion,
          total_tokens: u.prompt + u.completion,
        },
      }),
    );
  }
  out.push('data: [DONE]\n\n');
  return out;
}

/** Per test: a fresh LLM server (closed afterwards); call the returned function to reach it. */
export function useLlmServer(): () => LlmServer {
  let llm: LlmServer | undefined;
  beforeEach(async () => {
    llm = await LlmServer.start();
  });
  afterEach(async () => {
    await llm?.close();
    llm = undefined;
  });
  return () => llm!;
}
