import { constants } from 'node:buffer';
import { z } from 'zod';
import { duration, hostPort, tlsServer } from '../../config/schema.js';
import { defaultMaxConnections } from '../../net/connections.js';

/** `auth` on a server: the id of an authenticator extension, as in the Collector (`bearertokenauth`). */
export const serverAuth = z.strictObject({ authenticator: z.string().min(1) });

/** Connections open at once; more are closed as they arrive (0: the default). */
const maxConnections = z
  .number()
  .int()
  .nonnegative()
  .default(0)
  .transform((n) => (n === 0 ? defaultMaxConnections() : n));

/**
 * The largest body Node holds in one buffer (4 GiB on Node 20), which is also the most zlib can
 * inflate to: with a larger limit every compressed request failed ("maxOutputLength is out of range").
 */
const MAX_BODY_BYTES = constants.MAX_LENGTH;
const MIB = 1024 * 1024;

const grpcSchema = z.strictObject({
  endpoint: hostPort('0.0.0.0:4317'),
  /** Largest message accepted, after decompression (the Collector's default is 4 MiB). */
  max_recv_msg_size_mib: z
    .number()
    .positive()
    .max(MAX_BODY_BYTES / MIB)
    .default(4),
  /**
   * Calls open at once on one connection, advertised in HTTP/2 SETTINGS (a 32-bit field: a larger
   * value made the first connection's SETTINGS throw, and the process exit).
   */
  max_concurrent_streams: z
    .number()
    .int()
    .positive()
    .max(2 ** 32 - 1)
    .default(100),
  max_connections: maxConnections,
  /** A new connection must open its first call (TLS handshake included) within this. */
  read_header_timeout: duration(10_000),
  /** A call's request message must arrive whole within this after its headers. */
  read_timeout: duration(30_000),
  keepalive: z
    .strictObject({
      server_parameters: z
        .strictObject({
          /** A connection with no call in progress for this long is sent GOAWAY and closed. */
          max_connection_idle: duration(60_000),
        })
        .default({ max_connection_idle: 60_000 }),
    })
    .default({ server_parameters: { max_connection_idle: 60_000 } }),
  tls: tlsServer.optional(),
  auth: serverAuth.optional(),
});

const path = (defaultPath: string) =>
  z
    .string()
    .default(defaultPath)
    .refine((p) => p.startsWith('/'), { message: 'must start with "/"' });

const httpSchema = z.strictObject({
  endpoint: hostPort('0.0.0.0:4318'),
  /** Largest body accepted, in bytes, after decompression (the Collector's default: 20 MiB). */
  max_request_body_size: z
    .number()
    .int()
    .positive()
    .max(MAX_BODY_BYTES)
    .default(20 * MIB),
  max_connections: maxConnections,
  /** A request's headers (on a new connection: its first bytes too) must arrive within this. */
  read_header_timeout: duration(10_000),
  /** A whole request, body included, must arrive within this. */
  read_timeout: duration(30_000),
  /** A keep-alive connection waits this long for its next request. */
  idle_timeout: duration(65_000),
  traces_url_path: path('/v1/traces'),
  metrics_url_path: path('/v1/metrics'),
  logs_url_path: path('/v1/logs'),
  tls: tlsServer.optional(),
  auth: serverAuth.optional(),
  cors: z
    .strictObject({
      allowed_origins: z.array(z.string()).default([]),
      allowed_headers: z.array(z.string()).default([]),
      max_age: z.number().int().nonnegative().default(0),
    })
    .optional(),
});

export const otlpReceiverSchema = z.strictObject({
  protocols: z
    .strictObject({
      // A protocol key present with no settings (`grpc:`) enables it with the defaults.
      grpc: z.preprocess((v) => (v === null ? {} : v), grpcSchema.optional()),
      http: z.preprocess((v) => (v === null ? {} : v), httpSchema.optional()),
    })
    .refine((p) => p.grpc !== undefined || p.http !== undefined, {
      message: 'enable at least one protocol: grpc or http',
    }),
});

export type OtlpReceiverConfig = z.output<typeof otlpReceiverSchema>;
export type GrpcConfig = z.output<typeof grpcSchema>;
export type HttpConfig = z.output<typeof httpSchema>;

export function createDefaultConfig(): OtlpReceiverConfig {
  return otlpReceiverSchema.parse({ protocols: { grpc: {}, http: {} } });
}
