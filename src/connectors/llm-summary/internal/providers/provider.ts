/** The exact text sent to a model (kept with the summary as training data). */
export interface Prompt {
  readonly system: string;
  readonly user: string;
}

/** What a model answered. */
export interface Completion {
  /** The text exactly as the model wrote it (kept as training data). */
  readonly text: string;
  /** The model that answered, as the server named it. */
  readonly model: string;
  /** Token counts as the server reported them; undefined when it did not. */
  readonly promptTokens: number | undefined;
  readonly completionTokens: number | undefined;
}

/** How a request to a model failed (the label of the failure counters). */
export type FailureKind = 'timeout' | 'http' | 'malformed' | 'network' | 'empty';

export class ProviderError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/** A model server (Ollama, or an OpenAI-compatible one: OpenAI, vLLM, llama.cpp). */
export interface Provider {
  readonly name: 'ollama' | 'openai';
  readonly model: string;
  /** One completion for one prompt, failing with a `ProviderError`; aborted by `signal`. */
  complete(prompt: Prompt, signal: AbortSignal): Promise<Completion>;
  close(): Promise<void>;
}

/** Settings shared by the providers (from the exporter's config). */
export interface ProviderSettings {
  readonly endpoint: string;
  readonly model: string;
  readonly apiKey: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly stream: boolean;
  readonly temperature: number;
  readonly repeatPenalty: number;
  readonly maxTokens: number;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly connections: number;
}

/** A JSON object, or a malformed-answer error naming what was expected. */
export function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProviderError('malformed', `${what} is not JSON: ${preview(text)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProviderError('malformed', `${what} is not a JSON object: ${preview(text)}`);
  }
  return value as Record<string, unknown>;
}

export function preview(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > 120 ? `${t.slice(0, 117)}...` : t);
}

export const numberOrUndefined = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
