import { z } from 'zod';
import { duration, headers, parseHostPort, tlsClient } from '../../config/schema.js';
import { compressionParams } from '../helper/compression.js';
import { exportTimeout, requiredString, retryOnFailure, sendingQueue } from '../helper/config.js';

const SCHEME = /^(?:(https?):\/\/|dns:\/\/[^/]*\/)/;

/**
 * The `host:port` an `endpoint` names, and whether it asks for TLS. As for the Collector's otlp
 * exporter, `endpoint` is `host:port`, optionally written `http://host:port`, `https://host:port`
 * (TLS on, whatever `tls.insecure` says) or as a gRPC target `dns:///host:port`.
 */
export function grpcTarget(endpoint: string): { hostPort: string; https: boolean } {
  const m = SCHEME.exec(endpoint);
  return { hostPort: endpoint.slice(m?.[0].length ?? 0), https: m?.[1] === 'https' };
}

const endpoint = requiredString(
  'the host:port of the OTLP/gRPC server, e.g. "jaeger:4317"',
  (v, ctx) => {
    const { hostPort } = grpcTarget(v);
    const parsed = parseHostPort(hostPort);
    if (!parsed || parsed.port === 0 || hostPort.startsWith(':')) {
      ctx.addIssue({
        code: 'custom',
        message: `"${v}" is not a host:port address such as "jaeger:4317"`,
      });
    }
  },
);

const keepalive = z.strictObject({
  /** Ping the server after this long without activity. */
  time: duration(30_000),
  /** Close the connection when a ping is not answered within this time. */
  timeout: duration(10_000),
  /** Ping even when no export is in progress. */
  permit_without_stream: z.boolean().default(false),
});

export const otlpExporterSchema = z.strictObject({
  endpoint,
  tls: tlsClient.prefault({}),
  headers,
  compression: z.enum(['gzip', 'none']).default('gzip'),
  compression_params: compressionParams,
  timeout: exportTimeout(5_000),
  retry_on_failure: retryOnFailure,
  sending_queue: sendingQueue,
  keepalive: keepalive.optional(),
});

export type OtlpExporterConfig = z.output<typeof otlpExporterSchema>;
