import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request a stand-in received: its path and JSON body. */
export interface Received {
  readonly path: string;
  readonly body: Record<string, any>;
  readonly headers: http.IncomingHttpHeaders;
}

/** A status to answer, or a status with headers (`Retry-After` with a 429). */
export type Failure = number | { status: number; headers: Record<string, string> };

/**
 * A stand-in for a notification service that cannot run here, on 127.0.0.1:0, speaking its wire
 * format: it validates each request as the real service does and answers as it does. `failNext`
 * makes the next requests fail with a status (a service having a bad minute).
 */
export class StandIn {
  readonly received: Received[] = [];
  /** Requests answered, whatever the answer (failures included). */
  attempts = 0;
  private readonly server: http.Server;
  private failures: Failure[] = [];

  constructor(private readonly handle: (path: string, body: unknown) => [number, string, string]) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        this.attempts++;
        const fail = this.failures.shift();
        if (fail !== undefined) {
          const { status, headers } =
            typeof fail === 'number' ? { status: fail, headers: {} } : fail;
          res
            .writeHead(status, { 'Content-Type': 'text/plain', ...headers })
            .end('try again later');
          return;
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const [status, type, answer] = this.handle(req.url ?? '/', body);
        if (status >= 200 && status < 300) {
          this.received.push({
            path: req.url ?? '/',
            body: body as Record<string, any>,
            headers: req.headers,
          });
        }
        res.writeHead(status, { 'Content-Type': type }).end(answer);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  failNext(...failures: Failure[]): void {
    this.failures.push(...failures);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * What Slack's Block Kit refuses in `blocks` (its documented limits): more than 50 blocks; a
 * section's text empty or over 3000 characters; a header's plain text over 150; a context of more
 * than 10 elements. Empty when the blocks are valid.
 */
export function invalidSlackBlocks(blocks: unknown): string[] {
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  const errors: string[] = [];
  if (blocks.length > 50) errors.push(`${blocks.length} blocks: at most 50`);
  const text = (t: any, max: number, where: string) => {
    if (!t || !['mrkdwn', 'plain_text'].includes(t.type) || typeof t.text !== 'string')
      errors.push(`${where}: a text object is required`);
    else if (t.text.length < 1 || t.text.length > max)
      errors.push(`${where}: text of ${t.text.length} characters, must be 1..${max}`);
  };
  blocks.forEach((b: any, k) => {
    if (b?.type === 'section') text(b.text, 3_000, `blocks[${k}] section`);
    else if (b?.type === 'header') {
      if (b.text?.type !== 'plain_text') errors.push(`blocks[${k}] header: plain_text only`);
      text(b.text, 150, `blocks[${k}] header`);
    } else if (b?.type === 'context') {
      const els = Array.isArray(b.elements) ? b.elements : [];
      if (els.length < 1 || els.length > 10) errors.push(`blocks[${k}] context: 1..10 elements`);
      els.forEach((e: unknown, j: number) => text(e, 3_000, `blocks[${k}].elements[${j}]`));
    } else if (b?.type !== 'divider') errors.push(`blocks[${k}]: unknown type ${b?.type}`);
  });
  return errors;
}

/**
 * Slack's incoming webhooks: POST JSON to `/services/T.../B.../secret`; `text` (or `blocks`) is
 * required; answers `200 ok` (text/html), `400 invalid_payload` for bad JSON, `400 no_text`,
 * `400 invalid_blocks` for blocks beyond Block Kit's limits.
 */
export function slackStandIn(): StandIn {
  return new StandIn((path, body) => {
    if (!path.startsWith('/services/')) return [404, 'text/html', 'no_service'];
    if (body === undefined || typeof body !== 'object')
      return [400, 'text/html', 'invalid_payload'];
    const b = body as { text?: unknown; blocks?: unknown };
    if (typeof b.text !== 'string' && !Array.isArray(b.blocks))
      return [400, 'text/html', 'no_text'];
    if (invalidSlackBlocks(b.blocks).length > 0) return [400, 'text/html', 'invalid_blocks'];
    return [200, 'text/html', 'ok'];
  });
}

const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'];

/**
 * PagerDuty Events API v2: POST JSON to `/v2/enqueue`. Validates as the service documents it
 * (routing_key of 32 characters, event_action, dedup_key at most 255; for a trigger, payload with
 * summary of at most 1024 characters, source and severity); answers 202
 * `{"status":"success","message":"Event processed","dedup_key":...}` or 400
 * `{"status":"invalid event","message":"Event object is invalid","errors":[...]}`.
 */
export function pagerDutyStandIn(): StandIn {
  return new StandIn((path, body) => {
    if (path !== '/v2/enqueue') return [404, 'application/json', '{"status":"not found"}'];
    const errors: string[] = [];
    const b = (body ?? {}) as Record<string, any>;
    if (typeof b.routing_key !== 'string' || b.routing_key.length !== 32) {
      errors.push("'routing_key' must be a 32 character integration key");
    }
    if (!['trigger', 'acknowledge', 'resolve'].includes(b.event_action)) {
      errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    }
    if (
      b.dedup_key !== undefined &&
      (typeof b.dedup_key !== 'string' || b.dedup_key.length > 255)
    ) {
      errors.push("'dedup_key' must be a string of at most 255 characters");
    }
    if (b.event_action !== 'trigger' && typeof b.dedup_key !== 'string') {
      errors.push("'dedup_key' is required for acknowledge and resolve");
    }
    if (b.event_action === 'trigger') {
      const p = b.payload ?? {};
      if (typeof p.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) {
        errors.push("'payload.summary' is missing or longer than 1024 characters");
      }
      if (typeof p.source !== 'string' || p.source.length === 0)
        errors.push("'payload.source' is missing");
      if (!PD_SEVERITIES.includes(p.severity)) errors.push("'payload.severity' is invalid");
    }
    if (errors.length > 0) {
      return [
        400,
        'application/json',
        JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }),
      ];
    }
    return [
      202,
      'application/json',
      JSON.stringify({
        status: 'success',
        message: 'Event processed',
        dedup_key: b.dedup_key ?? 'generated',
      }),
    ];
  });
}

/** A generic JSON webhook: accepts any JSON object with 200. */
export function webhookStandIn(): StandIn {
  return new StandIn((_path, body) =>
    body && typeof body === 'object'
      ? [200, 'application/json', '{}']
      : [400, 'text/plain', 'bad json'],
  );
}
