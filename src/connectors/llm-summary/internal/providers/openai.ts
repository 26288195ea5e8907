import type { Clock } from '../../../../component/clock.js';
import { httpError, providerClient, type JsonClient } from './json-client.js';
import {
  numberOrUndefined,
  parseObject,
  ProviderError,
  type Completion,
  type Prompt,
  type Provider,
  type ProviderSettings,
} from './provider.js';

interface Choice {
  message?: { content?: unknown };
  delta?: { content?: unknown };
  finish_reason?: unknown;
}

/**
 * The OpenAI chat completions API, which vLLM and llama.cpp's server speak too:
 * `POST <endpoint>/v1/chat/completions` (or `<endpoint>/chat/completions` when the endpoint ends
 * in `/v1`) with `messages`, `temperature`, `max_tokens` and `stream`. Not streaming, the answer
 * is a `chat.completion` with `choices[0].message.content` and `usage`; streaming, server-sent
 * `data: {chat.completion.chunk}` lines (text in `choices[0].delta.content`) ending with
 * `data: [DONE]`, usage in a last chunk whose `choices` is empty (asked for with
 * `stream_options.include_usage`; some servers send `choices: null` there).
 */
export class OpenAiProvider implements Provider {
  readonly name = 'openai';
  readonly model: string;
  private readonly client: JsonClient;
  private readonly path: string;

  constructor(
    private readonly settings: ProviderSettings,
    private readonly frequencyPenalty: number | undefined,
    clock: Clock,
  ) {
    this.model = settings.model;
    this.client = providerClient(settings, clock);
    this.path = this.client.pathOf(
      /\/v1\/?$/.test(new URL(settings.endpoint).pathname)
        ? '/chat/completions'
        : '/v1/chat/completions',
    );
  }

  complete(prompt: Prompt, signal: AbortSignal): Promise<Completion> {
    const s = this.settings;
    const body = {
      model: s.model,
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
      temperature: s.temperature,
      max_tokens: s.maxTokens,
      stream: s.stream,
      ...(s.stream ? { stream_options: { include_usage: true } } : {}),
      ...(this.frequencyPenalty !== undefined ? { frequency_penalty: this.frequencyPenalty } : {}),
    };
    return this.client.post(this.path, body, signal, async (res) => {
      if (res.status < 200 || res.status > 299) throw httpError(res.status, await res.text());
      if (!s.stream) return this.whole(parseObject(await res.text(), 'the answer'));
      return this.streamed(res.lines());
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private whole(body: Record<string, unknown>): Completion {
    if (body['error'] !== undefined) throw httpError(200, JSON.stringify(body));
    const choices = body['choices'];
    const content = Array.isArray(choices)
      ? (choices[0] as Choice | undefined)?.message?.content
      : undefined;
    if (typeof content !== 'string') {
      throw new ProviderError('malformed', 'the answer has no "choices[0].message.content" string');
    }
    return { text: content, ...this.usage(body) };
  }

  private async streamed(lines: AsyncIterable<string>): Promise<Completion> {
    let text = '';
    let usage: Omit<Completion, 'text'> = this.usage({});
    let done = false;
    let finished = false;
    for await (const line of lines) {
      if (!line.startsWith('data:')) continue; // blank separators, comments, event names
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        done = true;
        break;
      }
      const chunk = parseObject(data, 'a streamed chunk');
      if (chunk['error'] !== undefined) throw httpError(200, data);
      const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as Choice[]) : [];
      const first = choices[0];
      const piece = first?.delta?.content;
      if (piece !== undefined && piece !== null) {
        if (typeof piece !== 'string') {
          throw new ProviderError('malformed', '"choices[0].delta.content" is not a string');
        }
        text += piece;
      }
      if (typeof first?.finish_reason === 'string') finished = true;
      if (chunk['usage'] && typeof chunk['usage'] === 'object') usage = this.usage(chunk);
      else if (typeof chunk['model'] === 'string') usage = { ...usage, model: chunk['model'] };
    }
    if (!done && !finished) {
      throw new ProviderError('malformed', 'the stream ended before "data: [DONE]"');
    }
    return { text, ...usage };
  }

  private usage(body: Record<string, unknown>): Omit<Completion, 'text'> {
    const u = (body['usage'] ?? {}) as Record<string, unknown>;
    return {
      model: typeof body['model'] === 'string' ? body['model'] : this.model,
      promptTokens: numberOrUndefined(u['prompt_tokens']),
      completionTokens: numberOrUndefined(u['completion_tokens']),
    };
  }
}
