export { CircuitBreaker } from './circuit-breaker.js';
export type { CircuitState } from './circuit-breaker.js';
export { JsonClient, httpError } from './json-client.js';
export { OllamaProvider } from './ollama.js';
export { OpenAiProvider } from './openai.js';
export { ProviderError, parseObject } from './provider.js';
export type { Prompt, Provider, ProviderSettings } from './provider.js';
