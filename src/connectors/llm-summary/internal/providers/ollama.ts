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

/**
 * Ollama's native API: `POST /api/generate` (`prompt` and `system`) or `POST /api/chat`
 * (`messages`), with `options.temperature`, `options.repeat_penalty` (against small models
 * stuttering) and `options.num_predict` (the answer's length). Not streaming, the answer is one
 * JSON object; streaming, NDJSON lines ending with `"done": true`, which carries the token counts
 * (`prompt_eval_count`, `eval_count`). An `error` field, in the body or in a line, is a failure.
 */
export class OllamaProvider implements Provider {
  readonly name = 'ollama';
  readonly model: string;
  private readonly client: JsonClient;

  constructor(
    private readonly settings: ProviderSettings,
    private readonly api: 'generate' | 'chat',
    clock: Clock,
  ) {
    this.model = settings.model;
    this.client = providerClient(settings, clock);
  }

  complete(prompt: Prompt, signal: AbortSignal): Promise<Completion> {
    const s = this.settings;
    const options = {
      temperature: s.temperature,
      repeat_penalty: s.repeatPenalty,
      num_predict: s.maxTokens,
    };
    const body =
      this.api === 'generate'
        ? { model: s.model, system: prompt.system, prompt: prompt.user, stream: s.stream, options }
        : {
            model: s.model,
            messages: [
              { role: 'system', content: prompt.system },
              { role: 'user', content: prompt.user },
            ],
            stream: s.stream,
            options,
          };
    return this.client.post(this.client.pathOf(`/api/${this.api}`), body, signal, async (res) => {
      if (res.status < 200 || res.status > 299) throw httpError(res.status, await res.text());
      if (!s.stream) return this.completion([parseObject(await res.text(), 'the answer')]);
      const parts: Record<string, unknown>[] = [];
      for await (const line of res.lines()) {
        if (line.trim() === '') continue;
        const part = parseObject(line, 'a streamed line');
        parts.push(part);
        if (typeof part['error'] === 'string') break;
        if (part['done'] === true) return this.completion(parts);
      }
      if (parts.some((p) => typeof p['error'] === 'string')) return this.completion(parts);
      throw new ProviderError('malformed', 'the stream ended before a line with "done": true');
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private completion(parts: readonly Record<string, unknown>[]): Completion {
    let text = '';
    for (const p of parts) {
      if (typeof p['error'] === 'string') {
        throw new ProviderError('http', `the model server said: ${JSON.stringify(p['error'])}`);
      }
      const piece =
        this.api === 'generate'
          ? p['response']
          : (p['message'] as { content?: unknown } | undefined)?.content;
      if (piece === undefined) continue;
      if (typeof piece !== 'string') {
        throw new ProviderError(
          'malformed',
          `"${this.api === 'generate' ? 'response' : 'message.content'}" is not a string`,
        );
      }
      text += piece;
    }
    const last = parts[parts.length - 1]!;
    const field = this.api === 'generate' ? 'response' : 'message';
    if (!parts.some((p) => field in p)) {
      throw new ProviderError('malformed', `the answer has no "${field}" field`);
    }
    return {
      text,
      model: typeof last['model'] === 'string' ? last['model'] : this.model,
      promptTokens: numberOrUndefined(last['prompt_eval_count']),
      completionTokens: numberOrUndefined(last['eval_count']),
    };
  }
}
