import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/component/errors.js';
import { builtinFactories } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import { staticResolver } from '../../../src/config/validate.js';
import { createDefaultConfig } from '../../../src/detectors/anomaly/config.js';

async function problems(yaml: string): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'test.yaml', staticResolver(builtinFactories()));
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

const pipeline = `
service:
  pipelines:
    traces: { receivers: [otlp], processors: [anomaly] , exporters: [nothing] }
receivers:
  otlp: { protocols: { http: {} } }
`;

describe('anomaly processor config', () => {
  it('has the defaults DESIGN.md names', () => {
    expect(createDefaultConfig()).toEqual({
      storage: './data/hourglass.db',
      postgres: { timeout: 5000 },
      timezone: 'UTC',
      window_days: 30,
      min_samples: 30,
      min_delta_ms: 5,
      min_severity: 5,
      severity_percentiles: { sev5: 99, sev4: 99.5, sev3: 99.9, sev2: 99.99, sev1: 99.999 },
      fixed_thresholds: { sev5: 3, sev4: 4, sev3: 5, sev2: 7, sev1: 10 },
      recalculation: { enabled: true, schedule: '0 3 * * *' },
      flush_interval: 10_000,
      history_retention: 30 * 24 * 3_600_000,
      max_history_pending: 10_000,
      max_history: 2_000_000,
      exclude_severe_from_baseline: true,
      learn_from_errors: false,
      max_keys: 10_000,
      latency: { enabled: true },
      errors: { enabled: true },
      traffic: { enabled: true },
      key_attributes: [],
      incidents: {
        enabled: true,
        quiet_period: 300_000,
        open_after: 60_000,
        sev1_confirm_within: 60_000,
        sev2_confirm_within: 300_000,
        quiet_growth: 0.5,
        max_quiet_period: 3_600_000,
        hold_while_slower: 0,
        max_hold: 24 * 3_600_000,
        keep_open_severity: 5,
        keep_open_elsewhere: 5,
        blame_severity: 5,
        origin_window: 0,
        reopen_within: 0,
        max_open: 200,
        max_traces: 50_000,
        retention: 30 * 24 * 3_600_000,
        max_stored: 10_000,
        max_metric_services: 50,
      },
    });
  });

  it('turns each detector off, and names a wrong switch', async () => {
    expect(
      await problems(`
processors:
  anomaly:
    latency: { enabled: false }
    errors: { enabled: false }
    traffic: { enabled: false }
${pipeline}`),
    ).toEqual([
      'service.pipelines.traces.exporters: references exporter "nothing" which is not configured',
    ]);
    const found = await problems(`
processors:
  anomaly:
    errors: { enabled: sometimes }
    traffic: { on: true }
${pipeline}`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^processors\.anomaly\.errors\.enabled: /),
        'processors.anomaly.traffic.on: unknown setting',
      ]),
    );
  });

  it('reports every wrong setting with its path', async () => {
    const found = await problems(`
processors:
  anomaly:
    timezone: Mars/Olympus
    window_days: 0
    min_severity: SEV9
    severity_percentiles: { sev5: 99.9, sev4: 99 }
    recalculation: { schedule: "at dawn" }
    flush_interval: 10
    colour: blue
${pipeline}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'processors.anomaly.colour: unknown setting',
        'processors.anomaly.timezone: is not an IANA time zone; write e.g. "UTC" or "Europe/Berlin"',
        'processors.anomaly.min_severity: "SEV9" is not a severity: write SEV1 .. SEV5',
        'processors.anomaly.severity_percentiles: must grow from sev5 to sev1',
        'processors.anomaly.flush_interval: expected a duration with a unit such as "5s" or "200ms", got 10',
      ]),
    );
    expect(found.find((p) => p.startsWith('processors.anomaly.window_days'))).toMatch(
      /^processors\.anomaly\.window_days: must be at least 1/,
    );
    expect(found.find((p) => p.startsWith('processors.anomaly.recalculation.schedule'))).toMatch(
      /"at dawn" is not a cron expression .*; write e.g. "0 3 \* \* \*"/,
    );
  });

  it('takes a SQLite path or a PostgreSQL URL as storage, and nothing else', async () => {
    const found = await problems(`
processors:
  anomaly:
    storage: mysql://hourglass@db/hourglass
    postgres: { timeout: 10ms, user: x }
${pipeline}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'processors.anomaly.storage: must be a SQLite file path or a PostgreSQL URL (postgres://user@host:5432/db)',
        'processors.anomaly.postgres.timeout: must be at least 100ms',
        'processors.anomaly.postgres.user: unknown setting',
      ]),
    );
    const ok = await problems(`
processors:
  anomaly:
    storage: postgresql://hourglass@db:5432/hourglass?sslmode=verify-full
    postgres: { password_file: /run/secrets/pg, ca_file: /etc/ca.pem, instance: pod-1, timeout: 2s }
${pipeline}`);
    expect(ok.filter((p) => p.startsWith('processors.anomaly'))).toEqual([]);
  });

  it('accepts the anomaly processor only in traces pipelines', async () => {
    const found = await problems(`
processors:
  anomaly: {}
receivers:
  otlp: { protocols: { http: {} } }
service:
  pipelines:
    metrics: { receivers: [otlp], processors: [anomaly], exporters: [nothing] }
`);
    expect(found).toContain(
      'service.pipelines.metrics.processors: processor "anomaly" does not support metrics',
    );
  });

  describe('incidents', () => {
    it('reports every wrong incidents setting with its path', async () => {
      const found = await problems(`
receivers:
  otlp: { protocols: { http: {} } }
processors:
  anomaly:
    incidents:
      quiet_period: 500ms
      max_open: 0
      retention: soon
      hold_while_slower: 0.5
      colour: red
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [anomaly], exporters: [debug] }
`);
      expect(found).toEqual([
        'processors.anomaly.incidents.quiet_period: must be at least 1s',
        'processors.anomaly.incidents.hold_while_slower: must be 0 (off) or more than 1',
        'processors.anomaly.incidents.max_open: must be at least 1, got number 0',
        'processors.anomaly.incidents.retention: "soon" is not a duration: write it as "200ms", "5s", "1m30s" or "1h"',
        'processors.anomaly.incidents.colour: unknown setting',
      ]);
    });
  });
});
