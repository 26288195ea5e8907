import type { Writable } from 'node:stream';
import type { ExporterFactory } from '../../component/factory.js';
import { debugExporterSchema, type DebugExporterConfig } from './config.js';
import { DebugExporter } from './debug-exporter.js';

/** The `debug` exporter factory, writing to `out` (stdout unless a test says otherwise). */
export function makeDebugExporterFactory(
  out?: () => Writable,
): ExporterFactory<DebugExporterConfig> {
  return {
    kind: 'exporter',
    type: 'debug',
    signals: ['traces', 'metrics', 'logs'],
    configSchema: debugExporterSchema,
    create: (settings, config, signal) =>
      new DebugExporter(settings, config, signal, out ? out() : process.stdout),
  };
}

export const debugExporterFactory = makeDebugExporterFactory();
