import { Pool } from 'undici';
import type { Clock } from '../../../component/clock.js';
import { maskSecrets } from '../../../telemetry/mask-secrets.js';
import type { Outcome } from './receiver-queue.js';

/**
 * What a PagerDuty 429 without `Retry-After` is waited out as: its Events API allows about 120
 * events a minute per routing key over a sliding 60 s window, and its docs suggest retrying a 429
 * "30 seconds apart" ("Events API Rate Limits"; "preferably with a backoff of a few minutes",
 * Events API v2 overview). Retrying from 1 s only spends more of the window.
 */
export const PAGERDUTY_429_MS = 30_000;

/** How much of a refusal's body is read for its reason, and how much of it the reason keeps. */
const DETAIL_READ = 4 * 1024;
const DETAIL_CHARS = 200;

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

  private readonly secrets: string[];

  /**
   * `secrets`: what a refusal's body must not bring into a log (a routing key). `tooManyMs`: the
   * wait a 429 without `Retry-After` stands for (PagerDuty's, PAGERDUTY_429_MS); without it such
   * a 429 is retried on the ordinary backoff.
   */
  constructor(
    url: string,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
    secrets: readonly string[] = [],
    private readonly tooManyMs?: number,
  ) {
    const u = new URL(url);
    this.path = `${u.pathname}${u.search}`;
    // A Slack webhook's secret is its last path segment; a webhook's token may be in its query.
    const last = u.pathname.split('/').pop() ?? '';
    this.secrets = [
      ...secrets,
      ...Object.values(headers),
      ...(last.length >= 8 ? [last] : []),
      ...u.searchParams.values(),
    ];
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
      const status = res.statusCode;
      const retryable = status === 408 || status === 429 || status >= 500;
      // A refusal says why (Slack: `invalid_blocks`; PagerDuty: its `errors`): kept in the reason.
      const detail =
        status >= 400 && !retryable
          ? this.detail(await readSome(res.body, DETAIL_READ))
          : (await res.body.dump({ limit: 64 * 1024 }), '');
      if (status >= 200 && status <= 299) return { ok: true };
      const retryAfterMs = retryable
        ? (this.retryAfter(res.headers['retry-after']) ??
          (status === 429 ? this.tooManyMs : undefined))
        : undefined;
      return {
        ok: false,
        retryable,
        reason: detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`,
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
   * A refusal's body in a few words: PagerDuty's `errors` (or a JSON `message` / `error`), else its
   * first line; never the receiver's secrets (its URL path and query, headers, routing key: an echo
   * of the request would carry them), and masked as notifications are.
   */
  private detail(body: string): string {
    let text = body.trim();
    try {
      const j = JSON.parse(text) as Record<string, unknown>;
      const errors = Array.isArray(j['errors']) ? j['errors'].map(String).join('; ') : undefined;
      const said = errors ?? j['message'] ?? j['error'];
      if (typeof said === 'string') text = said;
    } catch {
      // not JSON: its first line
    }
    text = text.split(/\r?\n/, 1)[0] ?? '';
    for (const secret of this.secrets) {
      if (secret.length >= 4) text = text.split(secret).join('[redacted]');
    }
    text = maskSecrets(text);
    return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS)}…` : text;
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

/** At most `limit` bytes of a body as text; the rest is left unread (the stream destroyed). */
async function readSome(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
