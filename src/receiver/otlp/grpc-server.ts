import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ServerAuthenticator } from '../../component/auth.js';
import type { Consumer, Signal } from '../../component/consumer.js';
import { serverTlsOptions } from '../../config/tls.js';
import type { ReceiverMetrics } from '../../telemetry/self-metrics.js';
import type { GrpcConfig } from './config.js';
import { decodeRequest } from './decode.js';
import { answerFor, encodeStatus, exportResponse, type Answer } from './status.js';

const SERVICE: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
};

const identity = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** The Export method of one OTLP service, carrying raw bytes: decoding is ours, done once. */
export function exportDefinition(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: `/${SERVICE[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: toBuffer,
      responseDeserialize: identity,
    },
  };
}

/**
 * OTLP/gRPC: the Export method of the TraceService, MetricsService and LogsService. Only signals
 * that have a pipeline are registered; the others answer UNIMPLEMENTED, as in the Collector.
 */
export class OtlpGrpcServer {
  private server: grpc.Server | undefined;
  private port = 0;

  constructor(
    private readonly config: GrpcConfig,
    private readonly next: Partial<Record<Signal, Consumer>>,
    private readonly logger: Logger,
    private readonly metrics: ReceiverMetrics,
    private readonly auth: ServerAuthenticator | undefined,
  ) {}

  async start(): Promise<void> {
    const options: grpc.ServerOptions = {
      'grpc.max_receive_message_length': Math.floor(
        this.config.max_recv_msg_size_mib * 1024 * 1024,
      ),
      'grpc.keepalive_permit_without_calls': 1,
    };
    if (this.config.max_concurrent_streams > 0) {
      options['grpc.max_concurrent_streams'] = this.config.max_concurrent_streams;
    }
    const server = new grpc.Server(options);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const consumer = this.next[signal];
      if (!consumer) continue;
      server.addService(exportDefinition(signal), {
        Export: (
          call: grpc.ServerUnaryCall<Buffer, Uint8Array>,
          callback: grpc.sendUnaryData<Uint8Array>,
        ) => {
          this.export(signal, consumer, call, callback).catch((err: unknown) => {
            this.logger.error({ err }, 'unexpected error handling an OTLP/gRPC request');
            callback({ code: grpc.status.INTERNAL, details: 'internal error' });
          });
        },
      });
    }
    let creds = grpc.ServerCredentials.createInsecure();
    if (this.config.tls) {
      const tls = serverTlsOptions(this.config.tls);
      creds = grpc.ServerCredentials.createSsl(
        (tls.ca as Buffer | undefined) ?? null,
        [{ cert_chain: tls.cert as Buffer, private_key: tls.key as Buffer }],
        tls.requestCert,
      );
    }
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(this.config.endpoint, creds, (err, port) =>
        err
          ? reject(
              new Error(`cannot listen for OTLP/gRPC on ${this.config.endpoint}: ${err.message}`),
            )
          : resolve(port),
      );
    });
    this.server = server;
  }

  address(): string | undefined {
    if (!this.server) return undefined;
    const host = this.config.endpoint.slice(0, this.config.endpoint.lastIndexOf(':'));
    return `${host}:${this.port}`;
  }

  /** Stops accepting calls and waits (up to `graceMs`) for calls in flight to be answered. */
  async shutdown(graceMs = 30_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async export(
    signal: Signal,
    consumer: Consumer,
    call: grpc.ServerUnaryCall<Buffer, Uint8Array>,
    callback: grpc.sendUnaryData<Uint8Array>,
  ): Promise<void> {
    if (this.auth) {
      const value = call.metadata.get('authorization')[0];
      if (!this.auth.authenticate(typeof value === 'string' ? value : value?.toString())) {
        callback(
          grpcError({
            http: 401,
            grpc: grpc.status.UNAUTHENTICATED,
            message: 'missing or invalid bearer token',
            retryAfterMs: undefined,
          }),
        );
        return;
      }
    }
    // Refused anyway? Then do not spend the CPU to decode it.
    const refusal = consumer.refusal?.();
    if (refusal) {
      this.metrics.refusedUndecoded(signal);
      callback(grpcError(answerFor(refusal)));
      return;
    }
    let decoded;
    try {
      decoded = decodeRequest(signal, call.request, 'proto');
    } catch (err) {
      callback(grpcError(answerFor(err)));
      return;
    }
    const { batch } = decoded;
    try {
      if (batch.items > 0 || decoded.rejected === 0) await consumer.consume(batch);
    } catch (err) {
      this.metrics.refused(signal, batch.items);
      callback(grpcError(answerFor(err)));
      return;
    }
    this.metrics.accepted(signal, batch.items);
    if (decoded.rejected > 0) this.metrics.refused(signal, decoded.rejected);
    callback(
      null,
      exportResponse(signal, decoded.rejected, decoded.rejectedReason, false) as Uint8Array,
    );
  }
}

/** A gRPC error with the google.rpc.Status (and RetryInfo) in `grpc-status-details-bin`. */
function grpcError(a: Answer): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus(a)));
  return { code: a.grpc, details: a.message, metadata };
}
