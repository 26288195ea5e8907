// @ts-check
/**
 * An example exporter plugin for hourglass: appends one JSON line per batch it receives (time,
 * exporter id, signal, item count, encoded size) to a file. Small on purpose: it shows the whole
 * plugin contract. Load it from the config:
 *
 *   exporters:
 *     plugin/batch-log:
 *       module: ./examples/plugins/batch-log.js   # relative to the config file
 *       path: ./data/batches.jsonl
 *
 * The module's default export has the shape of the built-in factories (src/component/factory.ts):
 * kind, type, signals, a zod configSchema (unknown keys are errors, defaults filled in), and
 * create(settings, config, signal) returning a component with start(host), consume(batch) and
 * shutdown(). `settings` brings the id, a pino logger, the clock and the self-metrics.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const configSchema = z.strictObject({
  /** The file to append to; created with its directory. */
  path: z.string().min(1),
  /** Also write the first bytes of each batch, base64 (for debugging a client). */
  include_head_bytes: z.number().int().min(0).max(1024).default(0),
});

/** @type {import('../../src/component/factory.js').ExporterFactory<z.output<typeof configSchema>>} */
const factory = {
  kind: 'exporter',
  type: 'batch_log',
  signals: ['traces', 'metrics', 'logs'],
  configSchema,
  create(settings, config, signal) {
    const metrics = settings.metrics.exporter(settings.id, signal);
    /** @type {import('node:fs').WriteStream | undefined} */
    let out;
    let state = 'created';
    return {
      async start() {
        const file = resolve(config.path);
        mkdirSync(dirname(file), { recursive: true });
        out = createWriteStream(file, { flags: 'a' });
        await once(out, 'open');
        state = 'running';
        settings.logger.info({ path: file }, 'batch-log plugin writing');
      },
      async consume(batch) {
        if (state !== 'running' || !out) throw new Error(`${settings.id} is not running`);
        const line = {
          time: new Date(settings.clock.now()).toISOString(),
          exporter: settings.id,
          signal: batch.signal,
          items: batch.items,
          bytes: batch.bytes.length,
          ...(config.include_head_bytes > 0
            ? {
                head: Buffer.from(batch.bytes.subarray(0, config.include_head_bytes)).toString(
                  'base64',
                ),
              }
            : {}),
        };
        // Backpressure: wait for a slow disk rather than buffering without bound.
        if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        metrics.sent(batch.items);
      },
      async shutdown() {
        if (state === 'stopped') return;
        const wasRunning = state === 'running';
        state = 'stopped';
        if (wasRunning && out) {
          out.end();
          await once(out, 'close');
        }
      },
    };
  },
};

export default factory;
