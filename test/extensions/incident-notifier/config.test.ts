import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/component/errors.js';
import { builtinFactories } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import { staticResolver } from '../../../src/config/validate.js';

async function load(notifier: string): Promise<string[]> {
  const yaml = `
receivers:
  otlp: { protocols: { http: {} } }
processors:
  anomaly: {}
exporters:
  debug: {}
extensions:
  incident_notifier:
${notifier}
service:
  extensions: [incident_notifier]
  pipelines:
    traces: { receivers: [otlp], processors: [anomaly], exporters: [debug] }
`;
  try {
    await loadConfigText(yaml, 'test.yaml', staticResolver(builtinFactories()), {
      PD_KEY: 'R0UT1NGKEY0123456789abcdefABCDEF',
    });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('incident_notifier config', () => {
  it('takes the README example', async () => {
    expect(
      await load(`    receivers:
      oncall: { type: slack, url: "https://hooks.slack.com/services/T0/B0/x" }
      pager: { type: pagerduty, routing_key: "\${env:PD_KEY}" }
      ops: { type: webhook, url: "https://ops.example.com/hooks/hourglass", headers: { Authorization: "Bearer x" } }
    routes:
      - { receivers: [pager], min_severity: SEV2, services: [payments, checkout] }
      - { receivers: [oncall, ops] }`),
    ).toEqual([]);
  });

  it("refuses a routing_key that is not 32 characters for PagerDuty's endpoint, without printing it", async () => {
    // PagerDuty would answer every event with 400, found only when the first incident is paged.
    expect(
      await load(`    receivers:
      pager: { type: pagerduty, routing_key: "s3cr3t-typo" }
      eu: { type: pagerduty, url: "https://events.eu.pagerduty.com/v2/enqueue", routing_key: "\${env:PD_KEY}x" }
      proxy: { type: pagerduty, url: "https://pd-proxy.internal/v2/enqueue", routing_key: "other" }
    routes:
      - { receivers: [pager, eu, proxy] }`),
    ).toEqual([
      "extensions.incident_notifier.receivers.pager.routing_key: is 11 characters; PagerDuty's Events API v2 integration keys are 32, and it refuses events with another (400)",
      "extensions.incident_notifier.receivers.eu.routing_key: is 33 characters; PagerDuty's Events API v2 integration keys are 32, and it refuses events with another (400) (set by PD_KEY)",
    ]);
  });

  it('reports every wrong setting with its path', async () => {
    expect(
      await load(`    receivers:
      oncall: { type: slack }
      pager: { type: pagerduty, url: "ftp://x" }
      chat: { type: teams, url: "https://x" }
    routes:
      - { receivers: [oncall, nobody], min_severity: SEV9 }`),
    ).toEqual([
      'extensions.incident_notifier.receivers.oncall.url: a slack receiver needs a url',
      'extensions.incident_notifier.receivers.pager.url: must be an http(s) URL',
      'extensions.incident_notifier.receivers.pager.routing_key: a pagerduty receiver needs the routing_key of its Events API v2 integration',
      'extensions.incident_notifier.receivers.chat.type: "teams" is not one of "slack", "pagerduty", "webhook"',
      'extensions.incident_notifier.routes[0].min_severity: "SEV9" is not a severity: write SEV1 .. SEV5',
    ]);
  });

  it('names a route receiver that does not exist, and a routing_key where it has no use', async () => {
    expect(
      await load(`    receivers:
      oncall: { type: slack, url: "https://hooks.slack.com/services/T0/B0/x", routing_key: abc }
    routes:
      - { receivers: [oncall, nobody] }`),
    ).toEqual([
      'extensions.incident_notifier.receivers.oncall.routing_key: only pagerduty receivers take a routing_key',
      'extensions.incident_notifier.routes[0].receivers[1]: no receiver "nobody" (receivers: oncall)',
    ]);
  });
});

describe('the commented example in otel-config.yaml', () => {
  it('is valid once uncommented and listed in service.extensions', async () => {
    const shipped = readFileSync(
      fileURLToPath(new URL('../../../otel-config.yaml', import.meta.url)),
      'utf8',
    );
    // Only the incident_notifier block: the lines after `  # incident_notifier:` under it.
    const block = /^ {2}# incident_notifier:.*\n(?: {2}# {3}.*\n)*/m;
    expect(shipped).toMatch(block);
    const text = shipped
      .replace(block, (b) => b.replace(/^ {2}# /gm, '  '))
      .replace('extensions: [admin]', 'extensions: [admin, incident_notifier]');
    const config = await loadConfigText(
      text,
      'otel-config.yaml',
      staticResolver(builtinFactories()),
      {
        SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
        PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789abcdefABCDEF',
      },
    );
    expect(config.extensions.get('incident_notifier')!.config).toMatchObject({
      receivers: {
        oncall: { type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXX' },
        pager: { type: 'pagerduty', routing_key: 'R0UT1NGKEY0123456789abcdefABCDEF' },
      },
      routes: [{ receivers: ['pager'], min_severity: 2 }, { receivers: ['oncall'] }],
    });
    expect(config.service.extensions).toEqual(['admin', 'incident_notifier']);
  });
});
