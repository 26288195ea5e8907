import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IncidentView } from '../../../src/detectors/anomaly/contract.js';
import {
  pagerDutyEvent,
  slackMessage,
} from '../../../src/extensions/incident-notifier/internal/messages.js';
import { Redactor } from '../../../src/extensions/incident-notifier/internal/redactor.js';
import {
  invalidSlackBlocks,
  pagerDutyStandIn,
  slackStandIn,
  type StandIn,
} from '../../helpers/notify-servers.js';

const T0 = Date.UTC(2026, 0, 12, 12);
const ID = 'inc-t8r2ou-fad84fe4fb1a';
const LINKS = { consoleUrl: 'http://hourglass.internal:8890', jaegerUiUrl: 'http://jaeger:16686' };

/** An incident that spread far: many services with long names, and a long summary. */
function wideIncident(services: number, summary: string): IncidentView {
  return {
    id: ID,
    status: 'open',
    severity: 1,
    openedAt: T0,
    updatedAt: T0 + 60_000,
    resolvedAt: null,
    reason: 'slow_span',
    origin: { service: 'payments', operation: 'GET /users/<id>', peerService: null },
    services: Array.from({ length: services }, (_, k) => ({
      service: `team-${k}-billing&ledger-reconciliation-service-eu-west-1-${'x'.repeat(40)}`,
      count: 100 - k,
    })),
    operations: [],
    timeline: [{ at: T0, severity: 1 }],
    samples: ['a', 'b', 'c'].map((c) => ({ traceId: c.repeat(32), spanId: c.repeat(16) })),
    summary: { text: summary, anomalyId: 'x' },
    spans: 4_000,
  };
}

/** What Slack's incoming webhooks take: Block Kit limits, checked by a stand-in over HTTP. */
describe('the Slack message', () => {
  let slack: StandIn;
  let url: string;
  beforeEach(async () => {
    slack = slackStandIn();
    url = `${await slack.listen()}/services/T0001/B0002/secret`;
  });
  afterEach(() => slack.close());

  async function post(body: unknown): Promise<number> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.text();
    return res.status;
  }

  it('keeps every block within Block Kit limits and the links whole, with 60 services and a 2000-character summary', async () => {
    const summary = `payments is slow: ${'a <b> & c; '.repeat(200)}`.slice(0, 2_000);
    const msg = slackMessage(
      { kind: 'opened', processor: 'anomaly', incident: wideIncident(60, summary) },
      LINKS,
      new Redactor(false),
    ) as { text: string; blocks: { text: { text: string } }[] };
    expect(invalidSlackBlocks(msg.blocks)).toEqual([]);
    expect(await post(msg)).toBe(200);
    const all = msg.blocks.map((b) => b.text.text).join('\n');
    // The links to the incident and to its traces survive whatever comes before them.
    expect(all).toContain(`<http://hourglass.internal:8890/#/incidents/${ID}|Open the incident>`);
    for (const c of ['a', 'b', 'c']) {
      expect(all).toContain(`<http://jaeger:16686/trace/${c.repeat(32)}?uiFind=${c.repeat(16)}|`);
    }
    // The services that do not fit are counted, not cut mid-name.
    expect(all).toMatch(/and \d+ more services/);
    // Every `&`, `<` and `>` of a name or summary is escaped, and no escape is cut in two.
    const outsideLinks = all.replace(/<http[^<>|]*\|[^<>]*>/g, '');
    expect(outsideLinks).not.toMatch(/[<>]/);
    expect(outsideLinks).not.toMatch(/&(?!amp;|lt;|gt;)/);
    // The fallback `text` (notifications) is mrkdwn too: Slack needs the same three escaped.
    expect(msg.text).toContain('payments GET /users/&lt;id&gt;');
  });

  it('answers the same for a resolved incident and a short one', async () => {
    const short = wideIncident(2, 'short');
    for (const kind of ['opened', 'resolved'] as const) {
      const msg = slackMessage(
        {
          kind,
          processor: 'anomaly',
          incident: { ...short, resolvedAt: kind === 'resolved' ? T0 + 600_000 : null },
        },
        LINKS,
        new Redactor(true),
      );
      expect(await post(msg)).toBe(200);
    }
    expect(slack.received).toHaveLength(2);
  });
});

/** What PagerDuty's Events API v2 takes, checked by a stand-in over HTTP. */
describe('the PagerDuty event', () => {
  let pd: StandIn;
  let url: string;
  beforeEach(async () => {
    pd = pagerDutyStandIn();
    url = `${await pd.listen()}/v2/enqueue`;
  });
  afterEach(() => pd.close());

  it('has a source PagerDuty takes when the origin service has an empty name', async () => {
    // `service.name` set to "" by an application: PagerDuty refuses an empty payload.source
    // (400), and the page would be lost.
    const i = wideIncident(1, 'x');
    const incident = { ...i, origin: { ...i.origin!, service: '' } };
    const event = pagerDutyEvent(
      { kind: 'opened', processor: 'anomaly', incident },
      'R0UT1NGKEY0123456789abcdefABCDEF',
      LINKS,
      new Redactor(true),
    );
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(res.status, await res.text()).toBe(202);
    expect(pd.received[0]!.body.payload.source).toBe('hourglass');
  });
});
