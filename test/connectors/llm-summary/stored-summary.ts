import type { StoredSummary } from '../../../src/connectors/llm-summary/internal/store/summary-store.js';

/** A summary as the store keeps it, for tests that need some without running traffic. */
export function storedSummary(
  id: string,
  anomalyIds: readonly string[],
  createdAt: number,
  over: Partial<StoredSummary> = {},
): StoredSummary {
  return {
    id,
    traceId: id.slice(0, 32),
    spanId: id.slice(33),
    anomalyIds,
    createdAt,
    provider: 'ollama',
    model: 'llama3.2:1b',
    systemPrompt: 'You are an SRE assistant.',
    prompt: `Latency anomaly ${createdAt}`,
    completion: 'CPU was high.',
    summary: 'CPU was high.',
    severity: 1,
    originService: 'payments',
    originOperation: 'POST /charge',
    fallbackReason: null,
    rating: null,
    correction: null,
    ratedAt: null,
    ...over,
  };
}
