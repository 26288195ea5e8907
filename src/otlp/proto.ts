import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** The repository's `proto/` directory (same depth from `src/otlp/` and `dist/otlp/`). */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

const PROTO_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

/** Loads the OTLP definitions from `proto/` (resolving imports there, never elsewhere). */
export function loadOtlpRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => PROTO_DIR + target;
  root.loadSync(PROTO_FILES, { keepCase: false });
  root.resolveAll();
  return root;
}

let cached: OtlpTypes | undefined;

export interface OtlpTypes {
  readonly root: protobuf.Root;
  readonly traceRequest: protobuf.Type;
  readonly traceResponse: protobuf.Type;
  readonly metricsRequest: protobuf.Type;
  readonly metricsResponse: protobuf.Type;
  readonly logsRequest: protobuf.Type;
  readonly logsResponse: protobuf.Type;
  readonly status: protobuf.Type;
  readonly retryInfo: protobuf.Type;
}

/** The message types the sidecar uses, loaded once (the definitions never change at run time). */
export function otlpTypes(): OtlpTypes {
  if (cached) return cached;
  const root = loadOtlpRoot();
  const t = (name: string) => root.lookupType(name);
  cached = {
    root,
    traceRequest: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    traceResponse: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    metricsRequest: t('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    metricsResponse: t('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
    logsRequest: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    logsResponse: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    status: t('google.rpc.Status'),
    retryInfo: t('google.rpc.RetryInfo'),
  };
  return cached;
}
