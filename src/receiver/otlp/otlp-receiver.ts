import { resolveAuthenticator } from '../../component/auth.js';
import type { Host, Receiver } from '../../component/component.js';
import type { Consumer, Signal } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import type { OtlpReceiverConfig } from './config.js';
import { connectionMetrics } from '../../net/connections.js';
import { OtlpGrpcServer } from './grpc-server.js';
import { OtlpHttpServer } from './http-server.js';

/** The otlp receiver: a gRPC server and an HTTP server feeding the same consumers. */
export class OtlpReceiver implements Receiver {
  private grpc: OtlpGrpcServer | undefined;
  private http: OtlpHttpServer | undefined;
  private shutdownPromise: Promise<void> | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: OtlpReceiverConfig,
    private readonly next: Partial<Record<Signal, Consumer>>,
  ) {}

  async start(host: Host): Promise<void> {
    const { grpc, http } = this.config.protocols;
    const { logger, metrics, id } = this.settings;
    if (grpc) {
      const auth = resolveAuthenticator(
        host,
        grpc.auth?.authenticator,
        `receivers.${id}.protocols.grpc`,
      );
      this.grpc = new OtlpGrpcServer(
        grpc,
        this.next,
        logger,
        metrics.receiver(id, 'grpc'),
        auth,
        connectionMetrics(metrics, id, 'grpc'),
      );
      await this.grpc.start();
      logger.info({ endpoint: this.grpc.address() }, 'OTLP/gRPC receiver listening');
    }
    if (http) {
      const auth = resolveAuthenticator(
        host,
        http.auth?.authenticator,
        `receivers.${id}.protocols.http`,
      );
      this.http = new OtlpHttpServer(
        http,
        this.next,
        logger,
        metrics.receiver(id, 'http'),
        auth,
        connectionMetrics(metrics, id, 'http'),
      );
      await this.http.start();
      logger.info({ endpoint: this.http.address() }, 'OTLP/HTTP receiver listening');
    }
  }

  /** Bound addresses, by protocol (the actual port when the config says 0). */
  addresses(): { grpc: string | undefined; http: string | undefined } {
    return { grpc: this.grpc?.address(), http: this.http?.address() };
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= Promise.all([this.grpc?.shutdown(), this.http?.shutdown()]).then(
      () => undefined,
    );
    return this.shutdownPromise;
  }
}
