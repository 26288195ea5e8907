import type { ExporterFactory } from '../../component/factory.js';
import { QueuedExporter } from '../helper/queued-exporter.js';
import { otlpExporterSchema, type OtlpExporterConfig } from './config.js';
import { GrpcTransport } from './grpc-transport.js';

/** `otlp`: OTLP over gRPC, towards Jaeger's (or any OTLP server's) port 4317. */
export const otlpExporterFactory: ExporterFactory<OtlpExporterConfig> = {
  kind: 'exporter',
  type: 'otlp',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: otlpExporterSchema,
  targets: (config) => [{ setting: 'endpoint', address: config.endpoint }],
  create: (settings, config, signal) =>
    new QueuedExporter(
      settings,
      signal,
      config,
      () => new GrpcTransport(config, signal),
      'endpoint',
    ),
};
