import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OllamaProvider } from '../../../src/connectors/llm-summary/internal/providers/ollama.js';
import { OpenAiProvider } from '../../../src/connectors/llm-summary/internal/providers/openai.js';
import {
  ProviderError,
  type Provider,
  type ProviderSettings,
} from '../../../src/connectors/llm-summary/internal/providers/provider.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { useLlmServer, type LlmServer } from '../../helpers/llm-server.js';

const PROMPT = { system: 'You are an SRE assistant.', user: 'Why was GET /checkout slow?' };
const TEXT = 'payments POST /charge took 500 ms longer than usual; CPU was 0.1%.';

const server = useLlmServer();
let llm: LlmServer;
let clock: FakeClock;
const providers: Provider[] = [];
beforeEach(() => {
  llm = server();
  llm.defaultText = TEXT;
  clock = new FakeClock();
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

type Kind = 'ollama/generate' | 'ollama/chat' | 'openai';

function make(kind: Kind, o: Partial<ProviderSettings> = {}): Provider {
  const settings: ProviderSettings = {
    endpoint: llm.url,
    model: kind === 'openai' ? 'gpt-4o-mini' : 'llama3.2:1b',
    apiKey: undefined,
    headers: {},
    stream: false,
    temperature: 0.2,
    repeatPenalty: 1.15,
    maxTokens: 200,
    timeoutMs: 30_000,
    maxResponseBytes: 1 << 20,
    connections: 2,
    ...o,
  };
  const p =
    kind === 'openai'
      ? new OpenAiProvider(settings, undefined, clock)
      : new OllamaProvider(settings, kind === 'ollama/chat' ? 'chat' : 'generate', clock);
  providers.push(p);
  return p;
}

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('the request succeeded');
}

const never = new AbortController().signal;
const KINDS: Kind[] = ['ollama/generate', 'ollama/chat', 'openai'];

describe('model providers against a server speaking the real wire formats', () => {
  describe.each(KINDS)('%s', (kind) => {
    it.each([false, true])('answers, streaming %s, with the token counts', async (stream) => {
      const c = await make(kind, { stream }).complete(PROMPT, never);
      expect(c).toEqual({
        text: TEXT,
        model: kind === 'openai' ? 'gpt-4o-mini' : 'llama3.2:1b',
        promptTokens: 10,
        completionTokens: 12,
      });
      const req = llm.requests[0]!;
      if (kind === 'openai') {
        expect(req.path).toBe('/v1/chat/completions');
        expect(req.body).toEqual({
          model: 'gpt-4o-mini',
          messages: [
            { role: 'system', content: PROMPT.system },
            { role: 'user', content: PROMPT.user },
          ],
          temperature: 0.2,
          max_tokens: 200,
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
        });
      } else {
        const options = { temperature: 0.2, repeat_penalty: 1.15, num_predict: 200 };
        expect(req.path).toBe(kind === 'ollama/chat' ? '/api/chat' : '/api/generate');
        expect(req.body).toEqual(
          kind === 'ollama/chat'
            ? {
                model: 'llama3.2:1b',
                messages: [
                  { role: 'system', content: PROMPT.system },
                  { role: 'user', content: PROMPT.user },
                ],
                stream,
                options,
              }
            : { model: 'llama3.2:1b', system: PROMPT.system, prompt: PROMPT.user, stream, options },
        );
      }
    });

    it('a 500 is a failure naming what the server said', async () => {
      llm.next(1, { kind: 'status', status: 500, message: 'CUDA error: out of memory' });
      const e = await failure(make(kind).complete(PROMPT, never));
      expect(e.kind).toBe('http');
      expect(e.status).toBe(500);
      expect(e.message).toBe('HTTP 500: "CUDA error: out of memory"');
    });

    it('a malformed answer is a failure', async () => {
      llm.next(1, { kind: 'malformed' });
      const e = await failure(make(kind).complete(PROMPT, never));
      expect(e.kind).toBe('malformed');
      expect(e.message).toMatch(
        /^the answer is not JSON: "\{\\"model\\": \\"llama3.2:1b\\", \\"respo"$/,
      );
    });

    it('a well-formed answer without the text is malformed', async () => {
      llm.next(1, { kind: 'malformed', body: '{"model": "m", "done": true}' });
      expect((await failure(make(kind).complete(PROMPT, never))).kind).toBe('malformed');
    });

    it('a stream cut short is malformed', async () => {
      llm.next(1, { kind: 'truncated' });
      const e = await failure(make(kind, { stream: true }).complete(PROMPT, never));
      expect(e.kind).toBe('malformed');
      expect(e.message).toMatch(/^the stream ended before/);
    });

    it.each([
      ['no answer at all', 'hang', false],
      ['a stream that stalls', 'stall', true],
    ] as const)('%s times out on the clock', async (_label, behaviour, stream) => {
      llm.next(1, { kind: behaviour });
      const pending = failure(make(kind, { stream, timeoutMs: 5_000 }).complete(PROMPT, never));
      await llm.waitForRequests(1);
      clock.advance(4_999);
      clock.advance(1);
      const e = await pending;
      expect(e.kind).toBe('timeout');
      expect(e.message).toBe('no complete answer within 5000 ms');
    });

    it('an answer larger than the cap is refused', async () => {
      llm.defaultText = 'word '.repeat(2000);
      const e = await failure(make(kind, { maxResponseBytes: 4096 }).complete(PROMPT, never));
      expect(e.kind).toBe('malformed');
      expect(e.message).toBe('the answer is larger than 4096 bytes');
    });
  });

  it('a server that is not there is a network failure', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const e = await failure(
      make('openai', { endpoint: `http://127.0.0.1:${port}` }).complete(PROMPT, never),
    );
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(/^ECONNREFUSED/);
  });

  it('openai: sends the API key, takes an endpoint ending in /v1, reports 401', async () => {
    llm.apiKey = 'sk-test-123';
    const ok = await make('openai', { endpoint: `${llm.url}/v1`, apiKey: 'sk-test-123' }).complete(
      PROMPT,
      never,
    );
    expect(ok.text).toBe(TEXT);
    expect(llm.requests[0]!.path).toBe('/v1/chat/completions');
    expect(llm.requests[0]!.headers.authorization).toBe('Bearer sk-test-123');
    const e = await failure(make('openai', { apiKey: 'wrong' }).complete(PROMPT, never));
    expect(e.message).toBe('HTTP 401: "Incorrect API key provided"');
  });

  it('ollama: an error line in the stream is a failure', async () => {
    llm.next(1, {
      kind: 'malformed',
      body: '{"model":"llama3.2:1b","response":"The","done":false}\n{"error":"an error was encountered while running the model"}\n',
    });
    const e = await failure(make('ollama/generate', { stream: true }).complete(PROMPT, never));
    expect(e.message).toBe(
      'the model server said: "an error was encountered while running the model"',
    );
  });

  it('the caller can cancel a request', async () => {
    llm.next(1, { kind: 'hang' });
    const cancel = new AbortController();
    const pending = failure(make('ollama/chat').complete(PROMPT, cancel.signal));
    await llm.waitForRequests(1);
    cancel.abort();
    expect((await pending).message).toBe('the request was cancelled');
  });
});
