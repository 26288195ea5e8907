import type { ExporterFactory } from '../../component/factory.js';
import { QueuedExporter } from '../helper/queued-exporter.js';
import {
  otlpHttpExporterSchema,
  signalUrl,
  urlSetting,
  type OtlpHttpExporterConfig,
} from './config.js';
import { HttpTransport } from './http-transport.js';

/** `otlphttp`: OTLP over HTTP (protobuf or JSON), towards Jaeger's (or any OTLP server's) port 4318. */
export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpExporterConfig> = {
  kind: 'exporter',
  type: 'otlphttp',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: otlpHttpExporterSchema,
  targets: (config, signal) => {
    const url = signalUrl(config, signal);
    if (url === undefined) return [];
    return [{ setting: urlSetting(config, signal), address: url }];
  },
  create: (settings, config, signal) =>
    new QueuedExporter(
      settings,
      signal,
      config,
      () => {
        const url = signalUrl(config, signal);
        if (!url) {
          throw new Error(
            `exporters.${settings.id}: no URL for ${signal}: set endpoint (a base URL) or ${signal}_endpoint`,
          );
        }
        return new HttpTransport(config, signal, url, settings.clock);
      },
      urlSetting(config, signal),
    ),
};
