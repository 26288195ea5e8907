import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import type { Component, Host } from '../../src/component/component.js';
import type { OtlpBatch, Signal } from '../../src/component/consumer.js';
import type { AnyFactory, CreateSettings } from '../../src/component/factory.js';
import { builtinFactories } from '../../src/components.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { CaptureExporter } from '../helpers/capture-exporter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testLogger } from '../helpers/sidecar.js';
import { traceRequest } from '../helpers/spans.js';
import { makeLogRecords } from '../helpers/logs.js';

/**
 * The lifecycle every component must pass, as the Collector's generated component tests check:
 * shutdown without start; start, consume, shutdown; shutdown twice. Each built-in type needs an
 * entry here (its smallest valid config), so a new component cannot skip the check.
 */
const CONFIGS: Record<string, Record<string, unknown>> = {
  'receiver/otlp': {
    protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } },
  },
  'processor/batch': {},
  'processor/memory_limiter': { limit_mib: 4096 },
  'extension/bearertokenauth': { token: 's3cret' },
};

const host: Host = { components: () => [], getExtension: () => undefined };
const batches: Record<Signal, () => OtlpBatch> = {
  traces: () => ({ signal: 'traces', bytes: traceRequest(3), items: 3 }),
  metrics: () => ({ signal: 'metrics', bytes: new Uint8Array(0), items: 0 }),
  logs: () => ({
    signal: 'logs',
    bytes: ProtobufLogsSerializer.serializeRequest(makeLogRecords('svc', 2))!,
    items: 2,
  }),
};

function settings(id: string): CreateSettings {
  return {
    id,
    logger: testLogger(),
    clock: new FakeClock(),
    metrics: new SelfMetrics({ processMetrics: false }),
  };
}

function create(
  factory: AnyFactory,
  signal: Signal,
  next: CaptureExporter,
): Component & { consume?: (b: OtlpBatch) => Promise<void> } {
  const config = factory.configSchema.parse(CONFIGS[`${factory.kind}/${factory.type}`]);
  switch (factory.kind) {
    case 'receiver':
      return factory.create(settings(factory.type), config, { [signal]: next });
    case 'processor':
      return factory.create(settings(factory.type), config, signal, next);
    case 'exporter':
      return factory.create(settings(factory.type), config, signal);
    case 'extension':
      return factory.create(settings(factory.type), config);
  }
}

const factories = builtinFactories();
const all: AnyFactory[] = [
  ...factories.receivers.values(),
  ...factories.processors.values(),
  ...factories.exporters.values(),
  ...factories.extensions.values(),
];
const cases = all.flatMap((f) =>
  ('signals' in f ? f.signals : (['traces'] as Signal[])).map(
    (s) => [`${f.kind}/${f.type}`, s, f] as const,
  ),
);

describe('component lifecycle', () => {
  it('has a test config for every built-in component', () => {
    expect(all.map((f) => `${f.kind}/${f.type}`).sort()).toEqual(Object.keys(CONFIGS).sort());
  });

  it.each(cases)('%s (%s): shutdown without start is safe', async (_name, signal, factory) => {
    const c = create(factory, signal, new CaptureExporter());
    await expect(c.shutdown()).resolves.toBeUndefined();
  });

  it.each(cases)(
    '%s (%s): start, consume, shutdown, shutdown again',
    async (_name, signal, factory) => {
      const next = new CaptureExporter();
      const c = create(factory, signal, next);
      await c.start(host);
      if (typeof c.consume === 'function') {
        const batch = batches[signal]();
        await c.consume(batch);
        await c.shutdown();
        if (factory.kind === 'processor') expect(next.items()).toBe(batch.items);
      } else {
        await c.shutdown();
      }
      await expect(c.shutdown()).resolves.toBeUndefined();
    },
  );
});
