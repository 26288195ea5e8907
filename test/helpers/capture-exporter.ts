import { z } from 'zod';
import type { Exporter } from '../../src/component/component.js';
import type { OtlpBatch } from '../../src/component/consumer.js';
import type { RefusedError } from '../../src/component/errors.js';
import type { ExporterFactory } from '../../src/component/factory.js';

/**
 * An exporter for tests: keeps every batch it receives in memory, and can be told to fail.
 * A real component of the graph (built from config by the service like any other), used where a
 * test needs to see exactly what leaves a pipeline without a network hop.
 */
export class CaptureExporter implements Exporter {
  readonly batches: OtlpBatch[] = [];
  failWith: Error | undefined;
  /** When set, the exporter says up front that it refuses (as memory_limiter does). */
  refuseWith: RefusedError | undefined;
  started = false;
  stopped = false;
  private waiters: Array<{ items: number; resolve: () => void }> = [];

  async start(): Promise<void> {
    this.started = true;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }

  refusal(): RefusedError | undefined {
    return this.refuseWith;
  }

  consume(batch: OtlpBatch): Promise<void> {
    if (this.refuseWith) return Promise.reject(this.refuseWith);
    if (this.failWith) return Promise.reject(this.failWith);
    this.batches.push(batch);
    const total = this.items();
    this.waiters = this.waiters.filter((w) => (w.items <= total ? (w.resolve(), false) : true));
    return Promise.resolve();
  }

  items(): number {
    return this.batches.reduce((n, b) => n + b.items, 0);
  }

  /** Resolves once at least `items` items have arrived. */
  waitForItems(items: number): Promise<void> {
    if (this.items() >= items) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ items, resolve }));
  }
}

/** `capture` exporters by id, so a test can find the instance the service built. */
export function captureExporterFactory(): ExporterFactory<{ label?: string }> & {
  instances: Map<string, CaptureExporter>;
} {
  const instances = new Map<string, CaptureExporter>();
  return {
    kind: 'exporter',
    type: 'capture',
    signals: ['traces', 'metrics', 'logs'],
    configSchema: z.strictObject({ label: z.string().optional() }),
    instances,
    create(settings, _config, signal) {
      const e = new CaptureExporter();
      instances.set(`${settings.id}/${signal}`, e);
      return e;
    },
  };
}
