import { compressionParams } from '../helper/compression.js';
import { z } from 'zod';
import type { Signal } from '../../component/consumer.js';
import { headers, tlsClient } from '../../config/schema.js';
import { exportTimeout, retryOnFailure, sendingQueue } from '../helper/config.js';

const url = z.string().superRefine((v, ctx) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(v);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not an http:// or https:// URL such as "http://jaeger:4318"`,
    });
  }
});

export const otlpHttpExporterSchema = z
  .strictObject({
    /** Base URL; `/v1/traces`, `/v1/metrics` and `/v1/logs` are appended. */
    endpoint: url.optional(),
    /** Full URLs per signal, used as they are. */
    traces_endpoint: url.optional(),
    metrics_endpoint: url.optional(),
    logs_endpoint: url.optional(),
    encoding: z.enum(['proto', 'json']).default('proto'),
    compression: z.enum(['gzip', 'none']).default('gzip'),
    compression_params: compressionParams,
    headers,
    timeout: exportTimeout(30_000),
    tls: tlsClient.prefault({}),
    /** Connections kept to the server (requests beyond wait for one). */
    max_conns_per_host: z.number().int().min(1).default(10),
    retry_on_failure: retryOnFailure,
    sending_queue: sendingQueue,
  })
  .refine((v) => v.endpoint || v.traces_endpoint || v.metrics_endpoint || v.logs_endpoint, {
    path: ['endpoint'],
    message:
      'required: the base URL of the OTLP/HTTP server, e.g. "http://jaeger:4318" (or traces_endpoint, metrics_endpoint, logs_endpoint)',
    // Checked even when other settings are wrong, so that every problem is listed at once.
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  });

export type OtlpHttpExporterConfig = z.output<typeof otlpHttpExporterSchema>;

/**
 * The URL a signal is posted to: its own `<signal>_endpoint`, else `endpoint` + `/v1/<signal>`, as
 * the Collector composes it. Undefined when neither is set.
 */
export function signalUrl(config: OtlpHttpExporterConfig, signal: Signal): string | undefined {
  const own = config[`${signal}_endpoint`];
  if (own) return own;
  if (!config.endpoint) return undefined;
  return config.endpoint.endsWith('/')
    ? `${config.endpoint}v1/${signal}`
    : `${config.endpoint}/v1/${signal}`;
}

/** The setting `signalUrl` takes a signal's URL from: `<signal>_endpoint` or `endpoint`. */
export function urlSetting(config: OtlpHttpExporterConfig, signal: Signal): string {
  return config[`${signal}_endpoint`] ? `${signal}_endpoint` : 'endpoint';
}
