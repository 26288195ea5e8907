import { z } from 'zod';
import { duration, hostPort, tlsServer } from '../config/schema.js';
import { serverAuth } from '../receiver/otlp/config.js';

/** Settings of the `admin` extension; README.md documents each with its default. */
export const adminExtensionSchema = z.strictObject({
  /** Bound to localhost unless configured otherwise: the API can recalculate and reads history. */
  endpoint: hostPort('localhost:8890'),
  tls: tlsServer.optional(),
  auth: serverAuth.optional(),
  /** Base URL of the Jaeger UI; anomalies then carry a link to their trace. */
  jaeger_ui_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as "http://localhost:16686"' })
    .optional()
    .transform((v) => v?.replace(/\/+$/, '')),
  /** Server-sent event clients served at once; more are answered 503. */
  max_stream_clients: z.number().int().positive().default(16),
  /** Comment lines sent to idle event streams so proxies keep them open. */
  stream_heartbeat: duration(15_000),
});

export type AdminExtensionConfig = z.output<typeof adminExtensionSchema>;

export function createDefaultConfig(): AdminExtensionConfig {
  return adminExtensionSchema.parse({});
}
