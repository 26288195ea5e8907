import type { Clock } from '../../../../component/clock.js';
import { JsonClient, httpError } from '../providers/index.js';

/** One summarized anomaly, as a webhook message lists it. */
export interface WebhookItem {
  readonly severity: number;
  readonly service: string;
  readonly operation: string;
  readonly durationMs: number;
  readonly summary: string;
  readonly traceId: string;
  readonly spanId: string;
}

/** Slack `mrkdwn` needs these three escaped; everything else is literal. */
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const MAX_SECTION_CHARS = 2900; // Slack allows 3000 characters in a section's text

/**
 * The Slack-compatible message of one batch of summaries: a `text` fallback (what notifications
 * and clients without blocks show) and one `section` block per anomaly, with a link to the trace
 * in Jaeger when `jaeger_ui_url` is set. Slack, Mattermost and most chat webhooks take it.
 */
export function webhookMessage(
  items: readonly WebhookItem[],
  jaegerUiUrl: string | undefined,
): Record<string, unknown> {
  const worst = Math.min(...items.map((i) => i.severity));
  const text = `hourglass: ${items.length} anomal${items.length === 1 ? 'y' : 'ies'} summarized (worst SEV${worst})`;
  const blocks = items.map((i) => {
    const link = jaegerUiUrl
      ? `\n<${jaegerUiUrl}/trace/${i.traceId}?uiFind=${i.spanId}|Open the trace in Jaeger>`
      : `\ntrace ${i.traceId}`;
    const head = `*SEV${i.severity}* ${escape(i.service)} \`${escape(i.operation)}\` (${i.durationMs.toFixed(1)} ms)\n`;
    const room = MAX_SECTION_CHARS - head.length - link.length;
    const body = escape(i.summary);
    return {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${head}${body.length > room ? `${body.slice(0, room - 3)}...` : body}${link}`,
      },
    };
  });
  return { text, blocks };
}

/** Posts each batch's message to one webhook URL; failures are returned, never thrown. */
export class Webhook {
  private readonly client: JsonClient;
  private readonly path: string;

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

  /** Resolves with undefined on success, or the error. */
  async send(message: unknown, signal: AbortSignal): Promise<Error | undefined> {
    try {
      await this.client.post(this.path, message, signal, async (res) => {
        const text = await res.text();
        if (res.status < 200 || res.status > 299) throw httpError(res.status, text);
      });
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
