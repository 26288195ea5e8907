import { z } from 'zod';
import { hostPort, tlsServer } from '../../config/schema.js';

/** `auth` on a server: the id of an authenticator extension, as in the Collector (`bearertokenauth`). */
export const serverAuth = z.strictObject({ authenticator: z.string().min(1) });

const grpcSchema = z.strictObject({
  endpoint: hostPort('0.0.0.0:4317'),
  /** Largest message accepted, after decompression (the Collector's default is 4 MiB). */
  max_recv_msg_size_mib: z.number().positive().default(4),
  /** Requests handled at once; more wait in grpc-js (0 = no limit). */
  max_concurrent_streams: z.number().int().nonnegative().default(0),
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
    .default(20 * 1024 * 1024),
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
