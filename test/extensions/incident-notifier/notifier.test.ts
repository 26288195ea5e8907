import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IncidentEngine } from '../../../src/detectors/anomaly/incidents/engine.js';
import type { IncidentNotifier } from '../../../src/extensions/incident-notifier/incident-notifier.js';
import type { Sidecar } from '../../../src/main.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import {
  pagerDutyStandIn,
  slackStandIn,
  webhookStandIn,
  type StandIn,
} from '../../helpers/notify-servers.js';
import { metricValue } from '../../helpers/self-metrics.js';
import { Capture } from '../../detectors/helpers/capture-exporter.js';
import {
  detectorOf,
  httpEndpoint,
  memoryLogger,
  startTestSidecar,
} from '../../detectors/helpers/sidecar.js';
import type { SpanSpec } from '../../detectors/helpers/traces.js';
import {
  checkoutTrace,
  H,
  learnHistory,
  MONDAY,
  postSpans,
} from '../../detectors/anomaly/incidents/traffic.js';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const SLACK_PATH = '/services/T0001/B0002/s3cr3tW3bh00kT0k3n';

/** Notifications of incidents to stand-ins speaking Slack's, PagerDuty's and a webhook's format. */
describe('incident_notifier', () => {
  let dir: string;
  let clock: FakeClock;
  let sidecar: Sidecar | undefined;
  let slack: StandIn;
  let pd: StandIn;
  let hook: StandIn;
  let urls: { slack: string; pd: string; hook: string };
  let engine: IncidentEngine;
  let notifier: IncidentNotifier;
  let logs: ReturnType<typeof memoryLogger>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-notify-'));
    clock = new FakeClock(MONDAY + 12 * H);
    slack = slackStandIn();
    pd = pagerDutyStandIn();
    hook = webhookStandIn();
    urls = { slack: await slack.listen(), pd: await pd.listen(), hook: await hook.listen() };
  });
  afterEach(async () => {
    await sidecar?.shutdown();
    sidecar = undefined;
    await Promise.all([slack.close(), pd.close(), hook.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    notify: Record<string, unknown> = {},
    incidents: Record<string, unknown> = {},
  ) {
    logs = memoryLogger();
    sidecar = await startTestSidecar({
      clock,
      logger: logs.logger,
      anomaly: { storage: join(dir, 'hg.db'), incidents },
      factories: [new Capture().factory],
      extensions: {
        incident_notifier: {
          receivers: {
            oncall: { type: 'slack', url: urls.slack + SLACK_PATH },
            pager: { type: 'pagerduty', url: `${urls.pd}/v2/enqueue`, routing_key: ROUTING_KEY },
            ops: {
              type: 'webhook',
              url: `${urls.hook}/hooks/incidents`,
              headers: { 'X-Token': 'abc' },
            },
          },
          routes: [
            { receivers: ['pager'], min_severity: 'SEV2', services: ['payments'] },
            { receivers: ['oncall', 'ops'] },
          ],
          console_url: 'http://hourglass.internal:8890/',
          jaeger_ui_url: 'http://jaeger:16686',
          ...notify,
        },
      },
    });
    engine = detectorOf(sidecar).incidents!;
    notifier = sidecar.service.find<IncidentNotifier>('extension', 'incident_notifier')!;
  }

  const open = (service: string, severity: number, operation = 'POST /charge') =>
    engine.openIncident({ service, operation, reason: 'test', severity }, clock.now())!;

  it('notifies Slack, PagerDuty (dedup_key = incident id) and the webhook on open and resolve', async () => {
    await start({}, { quiet_period: '1m' });
    const id = open('payments', 1);
    await notifier.idle();
    expect(pd.received).toHaveLength(1);
    expect(pd.received[0]!.body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: id,
      payload: {
        severity: 'critical',
        source: 'payments',
        component: 'POST /charge',
        summary: `SEV1 incident opened: payments POST /charge (1 service, 1 slow span) [${id}]`,
        custom_details: { severity: 'SEV1', origin: 'payments POST /charge' },
      },
      client: 'hourglass',
      client_url: `http://hourglass.internal:8890/#/incidents/${id}`,
    });
    expect(slack.received).toHaveLength(1);
    expect(slack.received[0]!.path).toBe(SLACK_PATH);
    expect(slack.received[0]!.body.text).toBe(
      `SEV1 incident opened: payments POST /charge (1 service, 1 slow span) [${id}]`,
    );
    // What happened, then the links (no summary yet): a section each.
    expect(slack.received[0]!.body.blocks).toHaveLength(2);
    expect(slack.received[0]!.body.blocks[1].text.text).toContain(
      `<http://hourglass.internal:8890/#/incidents/${id}|Open the incident>`,
    );
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.headers['x-token']).toBe('abc');
    expect(hook.received[0]!.body).toMatchObject({
      event: 'opened',
      incident: { id, status: 'open', severity: 'SEV1', origin: { service: 'payments' } },
    });

    clock.advance(61_000);
    await notifier.idle();
    expect(pd.received.map((r) => r.body.event_action)).toEqual(['trigger', 'resolve']);
    expect(pd.received[1]!.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: id,
    });
    expect(slack.received[1]!.body.text).toMatch(/^SEV1 incident resolved: payments POST \/charge/);
    expect(hook.received[1]!.body).toMatchObject({
      event: 'resolved',
      incident: { id, status: 'resolved', resolution: 'quiet' },
    });
    expect(
      await metricValue(sidecar!, 'hourglass_incident_notifications_total', { result: 'sent' }),
    ).toBe(6);
  });

  it('notifies a reopened incident under its id: PagerDuty triggers the same dedup_key again', async () => {
    await start({}, { quiet_period: '1m', reopen_within: '10m' });
    const id = open('payments', 1);
    await notifier.idle();
    clock.advance(61_000);
    await notifier.idle();
    clock.advance(120_000);
    expect(open('payments', 2)).toBe(id);
    await notifier.idle();
    expect(pd.received.map((r) => [r.body.event_action, r.body.dedup_key])).toEqual([
      ['trigger', id],
      ['resolve', id],
      ['trigger', id],
    ]);
    expect(pd.received[2]!.body.payload.summary).toBe(
      `SEV1 incident reopened: payments POST /charge (1 service, 2 slow spans) [${id}]`,
    );
    expect(hook.received.map((r) => r.body.event)).toEqual(['opened', 'resolved', 'reopened']);
    expect(hook.received[2]!.body.incident).toMatchObject({ id, status: 'open' });
    expect(await metricValue(sidecar!, 'hourglass_incidents_reopened_total')).toBe(1);
  });

  it('routes by severity and service, and tells a receiver of an incident that got worse into its route', async () => {
    await start();
    const cart = open('cart', 3);
    const pay = open('payments', 3);
    await notifier.idle();
    expect(pd.received).toEqual([]); // SEV3: not for the pager
    expect(slack.received).toHaveLength(2);

    expect(open('payments', 2)).toBe(pay); // the same incident, now SEV2
    await notifier.idle();
    expect(pd.received).toHaveLength(1);
    expect(pd.received[0]!.body).toMatchObject({
      dedup_key: pay,
      payload: { severity: 'critical' },
    });
    expect(pd.received[0]!.body.payload.summary).toMatch(/^SEV2 incident opened/);
    expect(slack.received[2]!.body.text).toMatch(/^SEV2 incident worse, now SEV2: payments/);
    expect(open('cart', 1)).toBe(cart);
    await notifier.idle();
    expect(pd.received).toHaveLength(1); // cart is not routed to the pager at any severity
  });

  it('notifies a SEV1 within 5 s of its first SEV1 span, through two failed attempts', async () => {
    await start({ retry: { initial_interval: '1s', max_interval: '4s', max_elapsed_time: '1m' } });
    const otlp = httpEndpoint(sidecar!);
    const post = (spans: SpanSpec[]) => postSpans(otlp, spans);
    await learnHistory(otlp, 5_000_000);
    expect(pd.received).toEqual([]);

    pd.failNext(500, 503);
    // What a real SEV1 fault sends: slow requests, one after another (here one a second). The
    // first is held until a second trace confirms it (sev1_confirm_within); nothing waits longer.
    const arrived = clock.now();
    let n = 0;
    const slowRequest = () => post(checkoutTrace(++n, clock.now(), { paymentsMs: 3_000 }));
    await slowRequest();
    await notifier.settled();
    expect(engine.openIncidents()).toEqual([]);
    while (pd.received.length === 0 && clock.now() - arrived < 10_000) {
      clock.advance(100);
      if ((clock.now() - arrived) % 1_000 === 0) await slowRequest();
      await notifier.settled();
    }
    // Opened the moment the second slow request arrived, a second after the first.
    expect(engine.openIncidents()).toMatchObject([{ openedAt: arrived + 1_000, severity: 1 }]);
    expect(pd.received).toHaveLength(1);
    expect(pd.received[0]!.body.payload.severity).toBe('critical');
    expect(clock.now() - arrived).toBeLessThanOrEqual(5_000);
    expect(clock.now() - arrived).toBeGreaterThanOrEqual(1_000); // it did wait out a backoff
    expect(
      await metricValue(sidecar!, 'hourglass_incident_notifications_total', {
        receiver: 'pager',
        result: 'retried',
      }),
    ).toBe(2);
  });

  it('pages nobody for a lone SEV1 span: one slow request and nothing else within sev1_confirm_within', async () => {
    await start();
    const otlp = httpEndpoint(sidecar!);
    await learnHistory(otlp, 5_000_000);
    await postSpans(otlp, checkoutTrace(1, clock.now(), { paymentsMs: 3_000 }));
    for (let k = 0; k < 12; k++) {
      clock.advance(10_000);
      await notifier.settled();
    }
    expect(engine.openIncidents()).toEqual([]);
    expect(pd.received).toEqual([]);
    expect(slack.received).toEqual([]);
    expect(hook.received).toEqual([]);
  });

  it('gives up on a refused notification at once, logs it once, and never logs a secret', async () => {
    await start({
      receivers: {
        oncall: { type: 'slack', url: `${urls.slack}/not-a-webhook/s3cr3tW3bh00kT0k3n` },
        pager: { type: 'pagerduty', url: `${urls.pd}/v2/enqueue`, routing_key: 'too-short-s3cr3t' },
        ops: { type: 'webhook', url: `${urls.hook}/hooks` },
      },
    });
    open('payments', 1);
    open('cart', 1);
    await notifier.idle();
    expect(pd.received).toEqual([]);
    expect(slack.received).toEqual([]);
    expect(
      await metricValue(sidecar!, 'hourglass_incident_notifications_total', { result: 'failed' }),
    ).toBe(3); // pager once (payments only), Slack twice
    expect(
      await metricValue(sidecar!, 'hourglass_incident_notifications_total', { result: 'retried' }),
    ).toBe(0);
    const warned = logs.lines.filter((l) => String(l['msg']).includes('notification failed'));
    // With what the receiver said: Slack's error code, PagerDuty's `errors`.
    expect(warned.map((l) => [l['receiver'], l['reason']]).sort()).toEqual([
      ['oncall', 'HTTP 404: no_service'],
      ['pager', "HTTP 400: 'routing_key' must be a 32 character integration key"],
    ]);
    const all = JSON.stringify(logs.lines);
    expect(all).not.toContain('s3cr3t');
  });

  it('never logs a secret that a refusal echoes back (URL, headers, routing key)', async () => {
    // A receiver that refuses with 400 and echoes what it was sent.
    const echo = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const key = (JSON.parse(body) as { routing_key?: string }).routing_key ?? '';
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `refused ${req.url} ${req.headers['x-token']} ${key}` }));
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    try {
      await start({
        receivers: {
          ops: {
            type: 'webhook',
            url: `${at}/hooks/s3cr3tHookPath?token=s3cr3tQueryToken`,
            headers: { 'X-Token': 's3cr3tHeaderValue' },
          },
          pager: { type: 'pagerduty', url: `${at}/v2/enqueue`, routing_key: 's3cr3tRoutingKey' },
        },
        routes: [{ receivers: ['ops', 'pager'] }],
      });
      open('payments', 1);
      await notifier.idle();
      const warned = logs.lines.filter((l) => String(l['msg']).includes('notification failed'));
      expect(warned.map((l) => String(l['reason'])).sort()).toEqual([
        expect.stringMatching(
          /^HTTP 400: refused \/hooks\/\[redacted\]\?token=\[redacted\] \[redacted\] $/,
        ),
        expect.stringMatching(/^HTTP 400: refused \/v2\/enqueue undefined \[redacted\]$/),
      ]);
      expect(JSON.stringify(logs.lines)).not.toContain('s3cr3t');
    } finally {
      echo.closeAllConnections();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it("waits out a 429's Retry-After before it retries, even with a SEV1 queued (Slack, PagerDuty)", async () => {
    await start();
    // Slack's incoming webhooks answer 429 with the seconds to wait in Retry-After; PagerDuty's
    // Events API may send it too (as seconds or an HTTP date).
    slack.failNext({ status: 429, headers: { 'Retry-After': '30' } });
    pd.failNext({
      status: 429,
      headers: { 'Retry-After': new Date(clock.now() + 20_000).toUTCString() },
    });
    open('cart', 3); // Slack and the webhook
    open('payments', 2); // and PagerDuty
    await notifier.settled();
    expect([slack.attempts, pd.attempts]).toEqual([1, 1]);
    for (let s = 0; s < 19; s++) {
      clock.advance(1_000);
      await notifier.settled();
    }
    expect([slack.attempts, pd.attempts]).toEqual([1, 1]);
    clock.advance(1_000);
    await notifier.settled();
    expect(pd.received.map((r) => r.body.dedup_key)).toHaveLength(1); // 20 s: PagerDuty's date
    for (let s = 0; s < 9; s++) {
      clock.advance(1_000);
      await notifier.settled();
    }
    open('checkout', 1); // a SEV1 goes first, but not before the time Slack asked for
    await notifier.settled();
    expect(slack.attempts).toBe(1);
    clock.advance(1_000);
    await notifier.idle();
    expect(slack.received.map((r) => r.body.text.split(':')[0])).toEqual([
      'SEV1 incident opened',
      'SEV3 incident opened',
      'SEV2 incident opened',
    ]);
    expect(slack.attempts).toBe(4);
  });

  it('waits 30 s after a PagerDuty 429 without Retry-After, as its Events API docs advise; Slack keeps the backoff', async () => {
    await start();
    // PagerDuty: about 120 events a minute per routing key over a sliding 60 s window; a 429 is
    // to be retried "30 seconds apart". Retrying from 1 s would spend more of the window.
    pd.failNext(429);
    pd.failNext(429);
    slack.failNext(429);
    open('payments', 2); // Slack, the webhook and PagerDuty
    await notifier.settled();
    expect([slack.attempts, pd.attempts]).toEqual([1, 1]);
    clock.advance(1_000);
    await notifier.settled();
    expect(slack.received).toHaveLength(1); // the backoff: from 1 s (jittered down to half)
    for (let s = 1; s < 30; s++) {
      expect(pd.attempts).toBe(1);
      clock.advance(1_000);
      await notifier.settled();
    }
    expect(pd.attempts).toBe(2); // 30 s later; refused again: 30 s more
    for (let s = 0; s < 29; s++) {
      clock.advance(1_000);
      await notifier.settled();
    }
    expect(pd.attempts).toBe(2);
    clock.advance(1_000);
    await notifier.idle();
    expect(pd.attempts).toBe(3);
    expect(pd.received.map((r) => r.body.event_action)).toEqual(['trigger']);
  });

  it('holds a receiver no longer than max_elapsed_time, whatever its Retry-After', async () => {
    await start({ retry: { max_elapsed_time: '2m' } });
    slack.failNext({ status: 429, headers: { 'Retry-After': '86400' } }); // a day
    open('cart', 3);
    await notifier.settled();
    expect(
      await metricValue(sidecar!, 'hourglass_incident_notifications_total', {
        receiver: 'oncall',
        result: 'failed',
      }),
    ).toBe(1); // a day is beyond its 2 minutes: given up at once
    open('checkout', 1);
    await notifier.settled();
    expect(slack.attempts).toBe(1);
    for (let s = 0; s < 120; s++) {
      clock.advance(1_000);
      await notifier.settled();
    }
    expect(slack.received.map((r) => r.body.text.split(':')[0])).toEqual(['SEV1 incident opened']);
  });

  it('holds ordinary notifications to the rate limit, never a SEV1', async () => {
    await start({
      receivers: { ops: { type: 'webhook', url: `${urls.hook}/h`, rate_limit_per_minute: 2 } },
      routes: [{ receivers: ['ops'] }],
    });
    for (const s of ['a', 'b', 'c', 'd']) open(s, 3);
    await notifier.settled();
    await notifier.settled();
    expect(hook.received).toHaveLength(2);
    open('urgent', 1);
    await notifier.settled();
    expect(hook.received.map((r) => r.body.incident.origin.service)).toEqual(['a', 'b', 'urgent']);
    clock.advance(30_000);
    await notifier.settled();
    expect(hook.received).toHaveLength(4);
    clock.advance(30_000);
    await notifier.idle();
    expect(hook.received.map((r) => r.body.incident.origin.service)).toEqual([
      'a',
      'b',
      'urgent',
      'c',
      'd',
    ]);
  });

  it('bounds each receiver queue, dropping and counting what does not fit', async () => {
    await start({
      receivers: { ops: { type: 'webhook', url: `${urls.hook}/h` } },
      routes: [{ receivers: ['ops'] }],
      queue_size: 2,
    });
    hook.failNext(503, 503, 503, 503, 503, 503);
    for (const s of ['a', 'b', 'c', 'd']) open(s, 3);
    await notifier.settled();
    expect(
      await metricValue(sidecar!, 'hourglass_incident_notifications_total', {
        result: 'dropped_queue_full',
      }),
    ).toBe(2);
  });

  it('adds the summary when it arrives, to the receivers told of the incident', async () => {
    await start();
    const otlp = httpEndpoint(sidecar!);
    const post = (spans: SpanSpec[]) => postSpans(otlp, spans);
    await learnHistory(otlp, 7_000_000);
    const trace = checkoutTrace(2, clock.now(), { paymentsMs: 3_000 });
    await post(trace);
    // A second slow request confirms the first one's SEV1 (sev1_confirm_within).
    await post(checkoutTrace(3, clock.now() + 500, { paymentsMs: 3_000 }));
    await notifier.idle();
    expect(pd.received).toHaveLength(1);
    const slow = trace[0]!; // the payments span
    engine.attachSummary(
      [`${slow.traceId}-${slow.spanId}`],
      'payments is slow: POST /charge takes 3 s instead of 55 ms; token=abcdef0123456789',
    );
    await notifier.idle();
    expect(pd.received).toHaveLength(2);
    expect(pd.received[1]!.body).toMatchObject({
      event_action: 'trigger',
      dedup_key: pd.received[0]!.body.dedup_key,
      payload: {
        custom_details: {
          summary: 'payments is slow: POST /charge takes 3 s instead of 55 ms; token=[redacted]',
        },
      },
    });
    const last = slack.received[slack.received.length - 1]!.body;
    expect(last.text).toMatch(/^SEV1 incident summary: payments POST \/charge/);
    expect(last.blocks[1].text.text).toContain('instead of 55 ms; token=[redacted]');
    expect(JSON.stringify(slack.received)).not.toContain('abcdef0123456789');
  });

  it('masks secrets and personal data in what it sends, as llm_summary does', async () => {
    await start();
    open('payments', 1, 'GET /users/jane.doe@example.com?api_key=live_0123456789abcdef');
    await notifier.idle();
    const sent = JSON.stringify([slack.received, pd.received, hook.received]);
    expect(sent).not.toContain('jane.doe@example.com');
    expect(sent).not.toContain('live_0123456789abcdef');
    expect(slack.received[0]!.body.text).toContain('api_key=[redacted]');
  });

  it('drains its queues on shutdown', async () => {
    await start();
    open('payments', 1);
    await sidecar!.shutdown();
    sidecar = undefined;
    expect(pd.received).toHaveLength(1);
    expect(slack.received).toHaveLength(1);
    expect(hook.received).toHaveLength(1);
  });

  it('resolves after a restart what it notified before: the receivers told of the opening hear of its end', async () => {
    await start({}, { quiet_period: '1m' });
    const id = open('payments', 1);
    await notifier.idle();
    await sidecar!.shutdown(); // a deploy: the incident is left open in the SQLite file
    sidecar = undefined;
    clock.advance(10_000);
    await start({}, { quiet_period: '1m' });
    // Quiet since its last span, it resolves in the new process (the clock stops there: the
    // requests' timeouts run on it too).
    for (let s = 0; s < 120 && engine.state(id)?.status !== 'resolved'; s++) clock.advance(1_000);
    expect(engine.state(id)?.status).toBe('resolved');
    await notifier.idle();
    expect(pd.received.map((r) => [r.body.event_action, r.body.dedup_key])).toEqual([
      ['trigger', id],
      ['resolve', id],
    ]);
    expect(hook.received.map((r) => [r.body.event, r.body.incident.id])).toEqual([
      ['opened', id],
      ['resolved', id],
    ]);
    expect(slack.received.map((r) => r.body.text.split(':')[0])).toEqual([
      'SEV1 incident opened',
      'SEV1 incident resolved',
    ]);
  });
});
