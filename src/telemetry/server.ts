import http from 'node:http';
import type { Logger } from 'pino';
import { boundAddress, closeNow, listen } from '../net/listen.js';
import { connectionMetrics } from '../net/connections.js';
import { guardHttpServer, SMALL_SERVER_GUARD } from '../net/http-guard.js';
import type { SelfMetrics } from './self-metrics.js';

/**
 * The sidecar's own HTTP endpoint (`service.telemetry.metrics.address`, 0.0.0.0:8888 by default):
 * Prometheus `/metrics`, `/healthz` (the process is alive) and `/readyz` (every component started
 * and shutdown has not begun), for Kubernetes probes and the Dockerfile's HEALTHCHECK.
 */
export class TelemetryServer {
  private server: http.Server | undefined;

  constructor(
    private readonly address: string,
    private readonly metrics: SelfMetrics,
    private readonly isReady: () => boolean,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err }, 'telemetry endpoint failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    guardHttpServer(
      server,
      SMALL_SERVER_GUARD,
      connectionMetrics(this.metrics, 'telemetry', 'http'),
    );
    await listen(server, this.address, 'telemetry');
    this.server = server;
    this.logger.info({ endpoint: this.boundAddress() }, 'serving /metrics, /healthz and /readyz');
  }

  boundAddress(): string | undefined {
    return boundAddress(this.server);
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeNow(server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    switch (path) {
      case '/metrics': {
        const body = await this.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body);
        return;
      }
      case '/healthz':
        json(res, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const ready = this.isReady();
        json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
        return;
      }
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
    }
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
