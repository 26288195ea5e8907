import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { OtlpBatch, Signal } from '../../src/component/consumer.js';
import type { ExporterFactory } from '../../src/component/factory.js';
import { makeDebugExporterFactory } from '../../src/exporters/debug/factory.js';
import { makeFileExporterFactory } from '../../src/exporters/file/factory.js';
import { otlpExporterFactory } from '../../src/exporters/otlp/factory.js';
import { otlpHttpExporterFactory } from '../../src/exporters/otlphttp/factory.js';
import { logsBatch, metricsBatch, traceBatch } from './batches.js';
import { HOST, harness, useTempDirs, useTestbed } from './harness.js';

/**
 * The lifecycle every component must pass: create -> shutdown (safe before start, runs once);
 * create -> start -> consume -> shutdown (drains: the data is out when shutdown resolves), for
 * every exporter and every signal it supports.
 */
const bed = useTestbed();
const tempDir = useTempDirs('hourglass-lifecycle-');

interface Case {
  readonly factory: ExporterFactory<any>;
  readonly config: () => Record<string, unknown>;
  /** How to see that the consumed batch went out. */
  readonly delivered: (signal: Signal, items: number) => void | Promise<void>;
}

const stdout = new PassThrough();
let printed = '';
stdout.on('data', (d: Buffer) => (printed += d.toString()));
let filePath = '';

const cases: Record<string, Case> = {
  otlp: {
    factory: otlpExporterFactory,
    config: () => ({ endpoint: bed.sink.grpcEndpoint, tls: { insecure: true } }),
    delivered: (signal, items) => expect(bed.sink.items(signal)).toBe(items),
  },
  otlphttp: {
    factory: otlpHttpExporterFactory,
    config: () => ({ endpoint: bed.sink.httpEndpoint }),
    delivered: (signal, items) => expect(bed.sink.items(signal)).toBe(items),
  },
  debug: {
    factory: makeDebugExporterFactory(() => stdout),
    config: () => ({}),
    delivered: (signal, items) =>
      expect(printed).toMatch(new RegExp(`debug ${signal}: .*, ${items} `)),
  },
  file: {
    factory: makeFileExporterFactory(),
    config: () => ({ path: (filePath = join(tempDir(), 'out.jsonl')) }),
    delivered: async (signal) => {
      const { readFileSync } = await import('node:fs');
      const lines = readFileSync(filePath, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(Object.keys(JSON.parse(lines[0]!) as object)).toEqual([RESOURCE_KEY[signal]]);
    },
  },
};

const RESOURCE_KEY: Record<Signal, string> = {
  traces: 'resourceSpans',
  metrics: 'resourceMetrics',
  logs: 'resourceLogs',
};

const BATCH: Record<Signal, () => OtlpBatch> = {
  traces: () => traceBatch(3),
  metrics: () => metricsBatch(2),
  logs: () => logsBatch(4),
};

describe.each(Object.entries(cases))('%s exporter lifecycle', (type, c) => {
  it('is built for every signal', () => {
    expect(c.factory.type).toBe(type);
    expect(c.factory.signals).toEqual(['traces', 'metrics', 'logs']);
  });

  it.each(['traces', 'metrics', 'logs'] as const)('%s: create -> shutdown', async (signal) => {
    const h = harness(type);
    const e = c.factory.create(h.settings, c.factory.configSchema.parse(c.config()), signal);
    await e.shutdown();
    await e.shutdown();
    expect(h.lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it.each(['traces', 'metrics', 'logs'] as const)(
    '%s: create -> start -> consume -> shutdown',
    async (signal) => {
      printed = '';
      const h = harness(type);
      const e = c.factory.create(h.settings, c.factory.configSchema.parse(c.config()), signal);
      await e.start(HOST);
      const batch = BATCH[signal]();
      await e.consume(batch);
      await e.shutdown();
      await c.delivered(signal, batch.items);
      await expect(e.consume(batch)).rejects.toThrow();
      await e.shutdown();
      expect(h.lines.filter((l) => l.level >= 40)).toEqual([]);
    },
  );
});
