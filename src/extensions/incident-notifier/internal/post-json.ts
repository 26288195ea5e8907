import type { Clock } from '../../../component/clock.js';
import { JsonClient } from '../../../exporters/llm-summary/internal/json-client.js';
import { ProviderError } from '../../../exporters/llm-summary/internal/providers/provider.js';
import type { Outcome } from './receiver-queue.js';

/**
 * POSTs JSON to one receiver's URL (through an undici pool of one connection, with a deadline on
 * the injected clock). The outcome never carries the URL, its query or the headers: a Slack
 * webhook's path is its secret.
 */
export class PostJson {
  private readonly client: JsonClient;
  private readonly path: string;
  private readonly closing = new AbortController();

  constructor(
    url: string,
    headers: Readonly<Record<string, string>>,
    timeoutMs: number,
    clock: Clock,
  ) {
    const u = new URL(url);
    this.path = `${u.pathname}${u.search}`;
    this.client = new JsonClient(
      u.origin,
      { headers, timeoutMs, maxResponseBytes: 64 * 1024, connections: 1 },
      clock,
    );
  }

  async post(body: unknown): Promise<Outcome> {
    try {
      return await this.client.post(this.path, body, this.closing.signal, async (res) => {
        await res.text();
        if (res.status >= 200 && res.status <= 299) return { ok: true } as const;
        const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        return { ok: false, retryable, reason: `HTTP ${res.status}` } as const;
      });
    } catch (err) {
      const kind = err instanceof ProviderError ? err.kind : 'network';
      return {
        ok: false,
        retryable: true,
        reason: kind === 'timeout' ? 'timeout' : 'network error',
      };
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.client.close();
  }
}
