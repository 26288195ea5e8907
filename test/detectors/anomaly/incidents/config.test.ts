import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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
