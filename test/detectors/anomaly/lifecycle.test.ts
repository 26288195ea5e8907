import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { adminExtensionFactory } from '../../../src/admin/factory.js';
import { NO_HOST, type Host } from '../../../src/component/component.js';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import type { CreateSettings } from '../../../src/component/factory.js';
import { builtinFactories } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import { staticResolver } from '../../../src/config/validate.js';
import { anomalyProcessorFactory } from '../../../src/detectors/anomaly/factory.js';
import type { AnomalyProcessor } from '../../../src/detectors/anomaly/anomaly-processor.js';
import { startFromConfig } from '../../../src/main.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Capture } from '../helpers/capture-exporter.js';
import { traceRequest } from '../helpers/traces.js';

const host: Host = NO_HOST;
const MONDAY = Date.UTC(2026, 0, 12);

describe('lifecycle of the anomaly processor and the admin extension', () => {
  let dir: string;
  let clock: FakeClock;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-lifecycle-'));
    clock = new FakeClock(MONDAY + 12 * 3_600_000);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const settings = (id: string): CreateSettings => ({
    id,
    logger: silentLogger(),
    clock,
    metrics: new SelfMetrics({ processMetrics: false }),
  });

  it('create -> shutdown: safe before start, touches nothing', async () => {
    const factory = anomalyProcessorFactory();
    const storage = join(dir, 'never.db');
    const p = factory.create(
      settings('anomaly'),
      factory.configSchema.parse({ storage }),
      'traces',
      {
        consume: async () => undefined,
      },
    );
    await p.shutdown();
    await p.shutdown();
    expect(existsSync(storage)).toBe(false);
    const admin = adminExtensionFactory.create(
      settings('admin'),
      adminExtensionFactory.configSchema.parse({ endpoint: '127.0.0.1:0' }),
    );
    await admin.shutdown();
  });

  it('create -> start -> consume -> shutdown: drains what it learned into SQLite', async () => {
    const factory = anomalyProcessorFactory();
    const storage = join(dir, 'hg.db');
    const received: OtlpBatch[] = [];
    const p = factory.create(
      settings('anomaly'),
      factory.configSchema.parse({ storage, flush_interval: '1h' }),
      'traces',
      { consume: async (b) => void received.push(b) },
    );
    await p.start(host);
    const spans = Array.from({ length: 5 }, (_, i) => ({
      name: 'op',
      startMs: MONDAY + i,
      durationMs: 10,
    }));
    await p.consume({ signal: 'traces', bytes: traceRequest(spans), items: 5 });
    expect(received).toHaveLength(1);
    await p.shutdown();
    await p.shutdown();
    const db = new Database(storage, { readonly: true });
    expect((db.prepare('SELECT sum(count) AS n FROM daily_stats').get() as { n: number }).n).toBe(
      5,
    );
    db.close();

    const admin = adminExtensionFactory.create(
      settings('admin'),
      adminExtensionFactory.configSchema.parse({ endpoint: '127.0.0.1:0' }),
    );
    await admin.start(host);
    await admin.shutdown();
    await admin.shutdown();
  });

  it('shares one detector between the pipelines that list the same processor id', async () => {
    const capture = new Capture();
    const config = await loadConfigText(
      stringify({
        receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
        processors: { anomaly: { storage: join(dir, 'shared.db') } },
        exporters: { capture: {} },
        service: {
          pipelines: {
            traces: { receivers: ['otlp'], processors: ['anomaly'], exporters: ['capture'] },
            'traces/second': {
              receivers: ['otlp'],
              processors: ['anomaly'],
              exporters: ['capture'],
            },
          },
          telemetry: { metrics: { level: 'none' } },
        },
      }),
      'shared.yaml',
      staticResolver(builtinFactories([capture.factory])),
    );
    const sidecar = await startFromConfig(config, { clock, logger: silentLogger() });
    try {
      const instances = sidecar.service
        .components()
        .filter((c) => c.kind === 'processor')
        .map((c) => c.instance as AnomalyProcessor);
      expect(instances).toHaveLength(2);
      expect(instances[0]!.detector).toBe(instances[1]!.detector);
      const spans = [{ name: 'op', startMs: MONDAY, durationMs: 10 }];
      await sidecar.service.pipelineEntries.get('traces/second')!.consume({
        signal: 'traces',
        bytes: traceRequest(spans),
        items: 1,
      });
      expect(instances[0]!.detector.model.get('checkout', 'op', 2)!.count()).toBe(1);
    } finally {
      await sidecar.shutdown();
    }
  });
});
