import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Exporter } from '../../src/component/component.js';
import type { ExporterFactory } from '../../src/component/factory.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import { Service } from '../../src/pipeline/service.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testLogger } from '../helpers/sidecar.js';

/** Exporters that write what happens to them into one shared list. */
function recordingFactory(events: string[]): ExporterFactory<{ feeds: boolean }> {
  return {
    kind: 'exporter',
    type: 'rec',
    signals: ['traces', 'metrics'],
    configSchema: z.strictObject({ feeds: z.boolean().default(false) }),
    create(settings, config, signal): Exporter {
      const name = `${settings.id}/${signal}`;
      return {
        feedsPipelineExporters: config.feeds,
        start: async () => void events.push(`start ${name}`),
        shutdown: async () => void events.push(`stop ${name}`),
        consume: async () => undefined,
      };
    },
  };
}

const YAML = `
receivers:
  otlp:
    protocols: { http: { endpoint: 127.0.0.1:0 } }
processors:
  batch: {}
exporters:
  rec/summary: { feeds: true }
  rec/jaeger: {}
  rec/metrics: {}
service:
  pipelines:
    metrics: { receivers: [otlp], exporters: [rec/summary, rec/metrics] }
    traces: { receivers: [otlp], processors: [batch], exporters: [rec/summary, rec/jaeger] }
    traces/copy: { receivers: [otlp], exporters: [rec/jaeger] }
  telemetry: { metrics: { level: none } }
`;

async function build(): Promise<{ service: Service; events: string[] }> {
  const events: string[] = [];
  const config = await loadConfigText(
    YAML,
    'test.yaml',
    staticResolver(builtinFactories([recordingFactory(events)])),
    {},
  );
  const service = new Service(config, {
    logger: testLogger(),
    clock: new FakeClock(),
    metrics: new SelfMetrics({ processMetrics: false }),
  });
  return { service, events };
}

describe('service graph', () => {
  it('tells each component the pipelines it is in', async () => {
    const { service } = await build();
    const of = (kind: string, id: string, signal?: string) =>
      service
        .components()
        .find(
          (c) => c.kind === kind && c.id === id && (signal === undefined || c.signal === signal),
        )!.pipelines;
    expect(of('exporter', 'rec/jaeger', 'traces')).toEqual(['traces', 'traces/copy']);
    expect(of('exporter', 'rec/summary', 'traces')).toEqual(['traces']);
    expect(of('exporter', 'rec/summary', 'metrics')).toEqual(['metrics']);
    expect(of('processor', 'batch')).toEqual(['traces']);
    expect(of('receiver', 'otlp')).toEqual(['metrics', 'traces', 'traces/copy']);
  });

  it('starts exporters that feed other exporters last and shuts them down first', async () => {
    const { service, events } = await build();
    await service.start();
    await service.shutdown();
    expect(events).toEqual([
      'start rec/metrics/metrics',
      'start rec/jaeger/traces',
      'start rec/summary/metrics',
      'start rec/summary/traces',
      'stop rec/summary/traces',
      'stop rec/summary/metrics',
      'stop rec/jaeger/traces',
      'stop rec/metrics/metrics',
    ]);
  });
});
