import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Component } from '../../src/component/component.js';
import type { Consumer, OtlpBatch, Signal } from '../../src/component/consumer.js';
import type { AnyFactory } from '../../src/component/factory.js';
import { builtinFactories } from '../../src/components.js';
import { makeDebugExporterFactory } from '../../src/exporters/debug/factory.js';
import { CaptureExporter } from '../helpers/capture-exporter.js';
import { logsBatch, metricsBatch, traceBatch } from '../exporters/batches.js';
import { HOST, harness, useTempDirs, useTestbed } from '../exporters/harness.js';

/**
 * The lifecycle every component must pass, as the Collector's generated component tests check:
 * create -> shutdown (safe before start, runs once); create -> start -> consume -> shutdown, after
 * which what was consumed has gone on (processors: to the next component; exporters: out). Every
 * built-in component needs a case here, so a new one cannot skip the check.
 */
const bed = useTestbed();
const tempDir = useTempDirs('hourglass-lifecycle-');
const stdout = new PassThrough();
let printed = '';
stdout.on('data', (d: Buffer) => (printed += d.toString()));
let filePath = '';

const RESOURCE_KEY: Record<Signal, string> = {
  traces: 'resourceSpans',
  metrics: 'resourceMetrics',
  logs: 'resourceLogs',
};

interface Case {
  /** Replaces the built-in factory (to capture its output), when set. */
  readonly factory?: AnyFactory;
  readonly config: () => Record<string, unknown>;
  /** Checks that a consumed batch went on; `next` is what a processor or receiver feeds. */
  readonly delivered?: (
    signal: Signal,
    items: number,
    next: CaptureExporter,
  ) => void | Promise<void>;
}

const CASES: Record<string, Case> = {
  'receiver/otlp': {
    config: () => ({
      protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } },
    }),
  },
  'processor/batch': {
    config: () => ({}),
    delivered: (_s, items, next) => expect(next.items()).toBe(items),
  },
  'processor/anomaly': {
    config: () => ({ storage: join(tempDir(), 'hourglass.db') }),
    delivered: (_s, items, next) => expect(next.items()).toBe(items),
  },
  'processor/memory_limiter': {
    config: () => ({ limit_mib: 8192 }),
    delivered: (_s, items, next) => expect(next.items()).toBe(items),
  },
  'exporter/otlp': {
    config: () => ({ endpoint: bed.sink.grpcEndpoint, tls: { insecure: true } }),
    delivered: (signal, items) => expect(bed.sink.items(signal)).toBe(items),
  },
  'exporter/otlphttp': {
    config: () => ({ endpoint: bed.sink.httpEndpoint }),
    delivered: (signal, items) => expect(bed.sink.items(signal)).toBe(items),
  },
  'exporter/debug': {
    factory: makeDebugExporterFactory(() => stdout),
    config: () => ({}),
    delivered: (signal, items) =>
      expect(printed).toMatch(new RegExp(`debug ${signal}: .*, ${items} `)),
  },
  'exporter/file': {
    config: () => ({ path: (filePath = join(tempDir(), 'out.jsonl')) }),
    delivered: (signal) => {
      const lines = readFileSync(filePath, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(Object.keys(JSON.parse(lines[0]!) as object)).toEqual([RESOURCE_KEY[signal]]);
    },
  },
  'connector/llm_summary': {
    config: () => ({ storage: join(tempDir(), 'summaries.db') }),
  },
  'extension/bearertokenauth': { config: () => ({ token: 's3cret' }) },
  'extension/admin': { config: () => ({ endpoint: '127.0.0.1:0' }) },
};

const BATCH: Record<Signal, () => OtlpBatch> = {
  traces: () => traceBatch(3),
  metrics: () => metricsBatch(2),
  logs: () => logsBatch(4),
};

const factories = builtinFactories();
const all: AnyFactory[] = [
  ...factories.receivers.values(),
  ...factories.processors.values(),
  ...factories.exporters.values(),
  ...factories.connectors.values(),
  ...factories.extensions.values(),
];
const cases = all.flatMap((f) => {
  const name = `${f.kind}/${f.type}`;
  const signals: readonly Signal[] =
    'signals' in f ? f.signals : f.kind === 'connector' ? f.from : ['traces'];
  return signals.map((signal) => [name, signal, CASES[name]?.factory ?? f] as const);
});

function create(
  name: string,
  factory: AnyFactory,
  signal: Signal,
  next: CaptureExporter,
): Component & Partial<Consumer> {
  const h = harness(name);
  const config = factory.configSchema.parse(CASES[name]!.config());
  switch (factory.kind) {
    case 'receiver':
      return factory.create(h.settings, config, { [signal]: next });
    case 'processor':
      return factory.create(h.settings, config, signal, next);
    case 'exporter':
      return factory.create(h.settings, config, signal);
    case 'connector':
      return factory.create(h.settings, config, { traces: next });
    case 'extension':
      return factory.create(h.settings, config);
  }
}

describe('component lifecycle', () => {
  it('has a case for every built-in component', () => {
    expect(all.map((f) => `${f.kind}/${f.type}`).sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(cases)('%s (%s): create -> shutdown, twice', async (name, signal, factory) => {
    const c = create(name, factory, signal, new CaptureExporter());
    await expect(c.shutdown()).resolves.toBeUndefined();
    await expect(c.shutdown()).resolves.toBeUndefined();
  });

  it.each(cases)(
    '%s (%s): create -> start -> consume -> shutdown',
    async (name, signal, factory) => {
      printed = '';
      const next = new CaptureExporter();
      const c = create(name, factory, signal, next);
      await c.start(HOST);
      if (c.consume) {
        const batch = BATCH[signal]();
        await c.consume(batch);
        await c.shutdown();
        await CASES[name]!.delivered?.(signal, batch.items, next);
        if (name.startsWith('exporter/') || name.startsWith('connector/')) {
          await expect(c.consume(batch)).rejects.toThrow();
        }
      } else {
        await c.shutdown();
      }
      await expect(c.shutdown()).resolves.toBeUndefined();
    },
  );
});
