import { z } from 'zod';
import type { Exporter } from '../../../src/component/component.js';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import type { ExporterFactory } from '../../../src/component/factory.js';

/**
 * An exporter that keeps every batch it receives (a real component of the graph, registered with
 * `builtinFactories([capture.factory])`), until the project's own exporters are on main. Setting
 * `refuse` makes it fail the next batches with that error, as a full downstream would.
 */
export class Capture {
  readonly batches: OtlpBatch[] = [];
  refuse: Error | undefined;
  private waiters: (() => void)[] = [];

  readonly factory: ExporterFactory<Record<string, never>> = {
    kind: 'exporter',
    type: 'capture',
    signals: ['traces', 'metrics', 'logs'],
    configSchema: z.strictObject({}),
    create: (): Exporter => ({
      start: async () => undefined,
      shutdown: async () => undefined,
      consume: async (batch) => {
        if (this.refuse) throw this.refuse;
        this.batches.push(batch);
        for (const w of this.waiters.splice(0)) w();
      },
    }),
  };

  /** Resolves once at least `n` spans have arrived in total. */
  async waitForItems(n: number): Promise<void> {
    while (this.batches.reduce((sum, b) => sum + b.items, 0) < n) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  clear(): void {
    this.batches.length = 0;
  }
}
