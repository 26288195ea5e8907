import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { anomalyProcessorFactory } from '../../../../src/detectors/anomaly/factory.js';
import type { AnomalyProcessor } from '../../../../src/detectors/anomaly/anomaly-processor.js';
import { ManualClock } from '../../../../src/component/manual-clock.js';
import { silentLogger } from '../../../../src/telemetry/logger.js';
import { SelfMetrics } from '../../../../src/telemetry/self-metrics.js';

describe('processors.anomaly.incidents', () => {
  it('is on in the shipped otel-config.yaml', () => {
    const doc = parse(readFileSync('otel-config.yaml', 'utf8')) as {
      processors: { anomaly: { incidents: Record<string, unknown> } };
    };
    expect(doc.processors.anomaly.incidents).toEqual({
      enabled: true,
      quiet_period: '5m',
      open_after: '1m',
      sev1_confirm_within: '1m',
      sev2_confirm_within: '5m',
      quiet_growth: 0.5,
      max_quiet_period: '1h',
    });
  });

  it('names only metrics the sidecar exports in the example Alertmanager rules', () => {
    const rules = parse(readFileSync('docs/alertmanager-rules.yaml', 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const metrics = new SelfMetrics({ processMetrics: false });
    const processor = anomalyProcessorFactory().create(
      { id: 'anomaly', logger: silentLogger(), clock: new ManualClock(), metrics },
      anomalyProcessorFactory().configSchema.parse({ storage: ':memory:' }),
      'traces',
      { consume: async () => undefined },
    ) as AnomalyProcessor;
    expect(processor.detector.incidents).toBeDefined();
    const exported = new Set(metrics.registry.getMetricsAsArray().map((m) => m.name));
    const named = rules.groups
      .flatMap((g) => g.rules)
      .flatMap((r) => r.expr.match(/hourglass_[a-z_]+/g) ?? []);
    expect(named.length).toBeGreaterThan(3);
    for (const name of named) expect(exported, name).toContain(name);
  });
  it('has the example Alertmanager rules pass promtool, and fire on the series the sidecar exports', () => {
    // Prometheus's own checker, from Debian's prometheus package (.ci/run installs it).
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(
        "promtool not found: install Debian's prometheus package (apt-get install prometheus), as .ci/run does",
      );
    }
    const rules = resolve('docs/alertmanager-rules.yaml');
    execFileSync('promtool', ['check', 'rules', rules], { stdio: 'pipe' });
    // Series with the labels the sidecar gives each metric (and the target's `instance`).
    const metrics = new SelfMetrics({ processMetrics: false });
    anomalyProcessorFactory().create(
      { id: 'anomaly', logger: silentLogger(), clock: new ManualClock(), metrics },
      anomalyProcessorFactory().configSchema.parse({ storage: ':memory:' }),
      'traces',
      { consume: async () => undefined },
    );
    const series = (name: string, severity?: string) => {
      const m = metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[] };
      const value: Record<string, string | undefined> = {
        processor: 'anomaly',
        service: 'payments',
        severity,
      };
      const labels = m.labelNames.map((l) => `${l}="${value[l]}"`);
      return `${name}{instance="a",${labels.join(',')}}`;
    };
    const alert = (at: string, name: string, labels: object, summary: string, more = {}) => ({
      eval_time: at,
      alertname: name,
      exp_alerts: [{ exp_labels: labels, exp_annotations: { summary, ...more } }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'hourglass-promtool-'));
    try {
      const file = join(dir, 'rules.test.yaml');
      writeFileSync(
        file,
        stringify({
          rule_files: [rules],
          evaluation_interval: '1m',
          tests: [
            {
              interval: '1m',
              input_series: [
                { series: series('hourglass_incidents_open', 'SEV1'), values: '0 1x20' },
                { series: series('hourglass_incidents_open', 'SEV3'), values: '1x20' },
                {
                  // 2 SEV1 spans a second
                  series: series('hourglass_anomaly_service_spans_tagged_total', 'SEV1'),
                  values: '0+120x30',
                },
                { series: series('hourglass_incidents_refused_total'), values: '0 0 1 1 1' },
              ],
              alert_rule_test: [
                alert(
                  '2m',
                  'HourglassCriticalIncident',
                  { severity: 'page', instance: 'a' },
                  'hourglass has 1 open SEV1/SEV2 incident(s)',
                  {
                    description:
                      'See GET /api/v1/incidents?status=open on the admin API, or the web console.',
                  },
                ),
                alert(
                  '6m',
                  'HourglassIncident',
                  { severity: 'ticket', instance: 'a' },
                  'hourglass has had a SEV3 incident open for 5 minutes',
                ),
                alert(
                  '20m',
                  'HourglassServiceSlowSpans',
                  { severity: 'ticket', service: 'payments' },
                  'payments: slow spans (SEV1/SEV2) at 2/s',
                ),
                alert(
                  '3m',
                  'HourglassIncidentsRefused',
                  { severity: 'ticket', instance: 'a', processor: 'anomaly' },
                  'hourglass reached incidents.max_open: faults are not getting incidents',
                ),
              ],
            },
          ],
        }),
      );
      const out = execFileSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
      expect(out).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('holds no incident and reopens none with a PostgreSQL storage (a fleet), as the README says', () => {
    const processor = anomalyProcessorFactory().create(
      {
        id: 'anomaly',
        logger: silentLogger(),
        clock: new ManualClock(),
        metrics: new SelfMetrics({ processMetrics: false }),
      },
      anomalyProcessorFactory().configSchema.parse({
        storage: 'postgres://hourglass@127.0.0.1:1/hourglass',
        incidents: { hold_while_slower: 1.1, reopen_within: '30m' },
      }),
      'traces',
      { consume: async () => undefined },
    ) as AnomalyProcessor;
    expect(processor.detector.incidents!.config).toMatchObject({
      hold_while_slower: 0,
      reopen_within: 0,
    });
  });
});
