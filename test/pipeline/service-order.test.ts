import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Connector, Exporter } from '../../src/component/component.js';
import type { ConnectorFactory, ExporterFactory } from '../../src/component/factory.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import { Service } from '../../src/pipeline/service.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testLogger } from '../helpers/sidecar.js';

/** Exporters that write what happens to them into one shared list. */
function recordingFactory(events: string[]): ExporterFactory {
  return {
    kind: 'exporter',
    type: 'rec',
    signals: ['traces', 'metrics'],
    configSchema: z.strictObject({}),
    create(settings, _config, signal): Exporter {
      const name = `${settings.id}/${signal}`;
      return {
        start: async () => void events.push(`start ${name}`),
        shutdown: async () => void events.push(`stop ${name}`),
        consume: async () => undefined,
      };
    },
  };
}

/** A connector (traces and metrics in, traces out) that records the same. */
function recordingConnector(events: string[]): ConnectorFactory {
  return {
    kind: 'connector',
    type: 'sum',
    from: ['traces', 'metrics'],
    to: ['traces'],
    usage: 'test',
    configSchema: z.strictObject({}),
    create(settings): Connector {
      return {
        start: async () => void events.push(`start ${settings.id}`),
        shutdown: async () => void events.push(`stop ${settings.id}`),
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
  rec/jaeger: {}
  rec/metrics: {}
connectors:
  sum/summary: {}
service:
  pipelines:
    metrics: { receivers: [otlp], exporters: [sum/summary, rec/metrics] }
    traces: { receivers: [otlp], processors: [batch], exporters: [sum/summary, rec/jaeger] }
    traces/copy: { receivers: [otlp], exporters: [rec/jaeger] }
    traces/summaries: { receivers: [sum/summary], exporters: [rec/jaeger] }
  telemetry: { metrics: { level: none } }
`;

async function build(): Promise<{ service: Service; events: string[] }> {
  const events: string[] = [];
  const config = await loadConfigText(
    YAML,
    'test.yaml',
    staticResolver(builtinFactories([recordingFactory(events), recordingConnector(events)])),
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
    expect(of('exporter', 'rec/jaeger', 'traces')).toEqual([
      'traces',
      'traces/copy',
      'traces/summaries',
    ]);
    expect(of('connector', 'sum/summary')).toEqual(['metrics', 'traces', 'traces/summaries']);
    expect(of('exporter', 'rec/metrics', 'metrics')).toEqual(['metrics']);
    expect(of('processor', 'batch')).toEqual(['traces']);
    expect(of('receiver', 'otlp')).toEqual(['metrics', 'traces', 'traces/copy']);
  });

  it('starts a connector after the pipelines it feeds and shuts it down before them', async () => {
    const { service, events } = await build();
    await service.start();
    await service.shutdown();
    expect(events).toEqual([
      'start rec/jaeger/traces',
      'start rec/metrics/metrics',
      'start sum/summary',
      'stop sum/summary',
      'stop rec/metrics/metrics',
      'stop rec/jaeger/traces',
    ]);
  });
});
