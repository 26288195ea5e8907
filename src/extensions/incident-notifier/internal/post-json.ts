import { Pool } from 'undici';
import type { Clock } from '../../../component/clock.js';
import type { Outcome } from './receiver-queue.js';

/**
 * POSTs JSON to one receiver's URL through an undici pool of one kept-alive connection, with a
 * deadline on the injected clock (and undici's own timeouts as a backstop in real time). The
 * answer's body is discarded (at most 64 KiB read). The outcome never carries the URL, its query
 * or the headers: a Slack webhook's path is its secret.
 */
export class PostJson {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly closing = new AbortController();

  constructor(
    url: string,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    const u = new URL(url);
    this.path = `${u.pathname}${u.search}`;
    this.pool = new Pool(u.origin, {
      connections: 1,
      headersTimeout: timeoutMs + 1_000,
      bodyTimeout: timeoutMs + 1_000,
    });
  }

  async post(body: unknown): Promise<Outcome> {
    const deadline = new AbortController();
    const timer = this.clock.setTimeout(() => deadline.abort(), this.timeoutMs);
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.any([deadline.signal, this.closing.signal]),
      });
      await res.body.dump({ limit: 64 * 1024 });
      const status = res.statusCode;
      if (status >= 200 && status <= 299) return { ok: true };
      const retryable = status === 408 || status === 429 || status >= 500;
      const retryAfterMs = retryable ? this.retryAfter(res.headers['retry-after']) : undefined;
      return {
        ok: false,
        retryable,
        reason: `HTTP ${status}`,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    } catch {
      return {
        ok: false,
        retryable: true,
        reason: deadline.signal.aborted ? 'timeout' : 'network error',
      };
    } finally {
      timer.cancel();
    }
  }

  /**
   * `Retry-After` (RFC 9110): delay-seconds or an HTTP date, as milliseconds from now on the
   * injected clock; undefined when absent or unreadable. Slack sends it with every 429.
   */
  private retryAfter(value: string | string[] | undefined): number | undefined {
    const v = (Array.isArray(value) ? value[0] : value)?.trim();
    if (!v) return undefined;
    if (/^\d+$/.test(v)) return Number(v) * 1_000;
    const at = Date.parse(v);
    return Number.isNaN(at) ? undefined : Math.max(0, at - this.clock.now());
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.pool.destroy();
  }
}
