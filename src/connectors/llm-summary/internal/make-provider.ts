import type { Clock } from '../../../component/clock.js';
import type { LlmSummaryExporterConfig } from '../config.js';
import {
  OllamaProvider,
  OpenAiProvider,
  type Provider,
  type ProviderSettings,
} from './providers/index.js';

/** The model client of a config; undefined for the built-in summarizer. */
export function makeProvider(c: LlmSummaryExporterConfig, clock: Clock): Provider | undefined {
  if (c.provider === 'builtin') return undefined;
  const settings: ProviderSettings = {
    endpoint: c.endpoint,
    model: c.model,
    apiKey: c.api_key,
    headers: c.headers,
    stream: c.stream,
    temperature: c.temperature,
    repeatPenalty: c.repeat_penalty,
    maxTokens: c.max_tokens,
    timeoutMs: c.timeout,
    maxResponseBytes: c.max_response_bytes,
    connections: c.max_concurrency,
  };
  return c.provider === 'ollama'
    ? new OllamaProvider(settings, c.ollama_api, clock)
    : new OpenAiProvider(settings, c.frequency_penalty, clock);
}
