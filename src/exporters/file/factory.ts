import { resolve } from 'node:path';
import type { ExporterFactory } from '../../component/factory.js';
import { fileExporterSchema, type FileExporterConfig } from './config.js';
import { FileExporter } from './file-exporter.js';
import { FileWriter } from './file-writer.js';

/**
 * `file`: OTLP/JSON lines in a local file, with size-based rotation. Make one factory per build:
 * it shares one writer per file among the signals (and ids) writing there.
 */
export function makeFileExporterFactory(): ExporterFactory<FileExporterConfig> {
  const writers = new Map<string, FileWriter>();
  return {
    kind: 'exporter',
    type: 'file',
    signals: ['traces', 'metrics', 'logs'],
    configSchema: fileExporterSchema,
    create(settings, config, signal) {
      const path = resolve(config.path);
      let writer = writers.get(path);
      if (!writer) writers.set(path, (writer = new FileWriter(config, settings)));
      return new FileExporter(settings, writer, signal);
    },
  };
}
