import { z } from 'zod';
import { parseHostPort } from '../net/host-port.js';
import { parseDuration } from './duration.js';

/**
 * Building blocks for component config schemas, so that every component spells durations, sizes,
 * endpoints and TLS the same way (the Collector's confighttp / configgrpc / configtls shapes).
 */

/** A duration such as `5s`; the parsed value is in milliseconds. */
export function duration(defaultMs?: number) {
  const schema = z.union([z.string(), z.number()]).transform((v, ctx) => {
    if (typeof v === 'number') {
      if (v === 0) return 0;
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration with a unit such as "5s" or "200ms", got ${v}`,
      });
      return z.NEVER;
    }
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${v}" is not a duration: write it as "200ms", "5s", "1m30s" or "1h"`,
      });
      return z.NEVER;
    }
    return ms;
  });
  return defaultMs === undefined ? schema : schema.optional().transform((v) => v ?? defaultMs);
}

/** `host:port` (the Collector's `endpoint` for servers and gRPC clients). Port 0 picks a free port. */
export function hostPort(defaultValue: string) {
  return z.preprocess(
    // A port alone (`endpoint: 4317`, HOURGLASS_GRPC_ENDPOINT=4317) is read as a YAML number.
    (v) => (typeof v === 'number' ? String(v) : v),
    z
      .string()
      .default(defaultValue)
      .superRefine((v, ctx) => {
        if (parseHostPort(v)) return;
        ctx.addIssue({
          code: 'custom',
          message: /^\d+$/.test(v)
            ? `"${v}" is a port without a host; write host:port, such as "0.0.0.0:4317" (every interface) or "localhost:4317"`
            : `"${v}" is not a host:port address such as "0.0.0.0:4317" or "localhost:4317"`,
        });
      }),
  );
}

export const headers = z.record(z.string(), z.string()).default({});

/** Client TLS, as the Collector's configtls client settings. `insecure: true` means plaintext. */
export const tlsClient = z
  .strictObject({
    insecure: z.boolean().default(false),
    insecure_skip_verify: z.boolean().default(false),
    ca_file: z.string().optional(),
    cert_file: z.string().optional(),
    key_file: z.string().optional(),
    server_name_override: z.string().optional(),
    min_version: z.enum(['1.2', '1.3']).default('1.2'),
  })
  .superRefine(certAndKeyTogether);

/** Server TLS (receivers, admin API). `client_ca_file` turns on mutual TLS. */
export const tlsServer = z
  .strictObject({
    cert_file: z.string(),
    key_file: z.string(),
    ca_file: z.string().optional(),
    client_ca_file: z.string().optional(),
    min_version: z.enum(['1.2', '1.3']).default('1.2'),
  })
  .superRefine(certAndKeyTogether);

function certAndKeyTogether(
  v: { cert_file?: string | undefined; key_file?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((v.cert_file === undefined) !== (v.key_file === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'cert_file and key_file must be set together' });
  }
}

export type TlsClientConfig = z.output<typeof tlsClient>;
export type TlsServerConfig = z.output<typeof tlsServer>;

export { parseHostPort };
