import type http2 from 'node:http2';
import { timerMs } from '../../component/clock.js';
import type { GrpcConfig } from './config.js';
import type { ConnectionMetrics } from '../../net/connections.js';

/**
 * Closes a connection that carries no call: one that opened no call within
 * `read_header_timeout` of connecting (a silent newcomer, or one that sent only the HTTP/2
 * preface) is destroyed; one idle for `keepalive.server_parameters.max_connection_idle` after its
 * last call is sent GOAWAY and closed, as grpc-go servers do (clients reconnect when they need to).
 */
export class IdleSession {
  private streams = 0;
  private served = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: http2.ServerHttp2Session,
    private readonly config: GrpcConfig,
    private readonly connections: ConnectionMetrics,
  ) {
    this.arm(config.read_header_timeout);
  }

  streamOpened(): void {
    this.served = true;
    this.streams++;
    clearTimeout(this.timer);
  }

  streamClosed(): void {
    if (--this.streams === 0) this.arm(this.config.keepalive.server_parameters.max_connection_idle);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    if (ms <= 0) return;
    this.timer = setTimeout(() => {
      if (this.streams > 0 || this.session.destroyed) return;
      if (this.served) {
        this.connections.idleClosed();
        this.session.close();
      } else {
        this.connections.timedOut();
        this.session.destroy();
      }
    }, timerMs(ms)).unref();
  }
}
