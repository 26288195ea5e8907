import http from 'node:http';
import https from 'node:https';
import { resolveAuthenticator, type ServerAuthenticator } from '../component/auth.js';
import type { Extension, Host } from '../component/component.js';
import type { CreateSettings } from '../component/factory.js';
import { serverTlsOptions } from '../config/tls.js';
import {
  ANOMALY_HISTORY,
  ANOMALY_INCIDENTS,
  type AnomalyHistory,
  type IncidentSource,
} from '../detectors/anomaly/contract.js';
import { boundAddress, closeNow, listen } from '../net/listen.js';
import { connectionMetrics } from '../net/connections.js';
import { guardHttpServer, SMALL_SERVER_GUARD } from '../net/http-guard.js';
import {
  SUMMARY_STORE,
  summarySources,
  type SummarySource,
} from '../connectors/llm-summary/contract.js';
import type { AdminExtensionConfig } from './config.js';
import { ConsoleFiles } from './console/static-routes.js';
import { serveAnomalies } from './internal/anomaly-stream.js';
import { EventStream } from './internal/event-stream.js';
import { IncidentLog } from './internal/incident-log.js';
import { BodyTooLarge } from './internal/body.js';
import { COUNT_ROUTES } from './internal/count-routes.js';
import { FEEDBACK_ROUTES } from './internal/feedback-routes.js';
import { INCIDENT_ROUTES } from './internal/incident-routes.js';
import { BadRequest, Params } from './internal/params.js';
import {
  json,
  matchPath,
  ROUTES,
  type AdminContext,
  type StreamFilter,
} from './internal/routes.js';

const ALL_ROUTES = [...ROUTES, ...COUNT_ROUTES, ...FEEDBACK_ROUTES, ...INCIDENT_ROUTES];

/**
 * The `admin` extension: the JSON admin API of DESIGN.md (baselines, anomaly history, the live
 * anomaly stream, recalculation, feedback on summaries and the training-data export) over HTTP,
 * bound to localhost by default, optionally with TLS and an authenticator extension. It finds the
 * anomaly history and the summary stores through the host, as capabilities (`host.lookup`).
 */
export class AdminExtension implements Extension, AdminContext {
  private server: http.Server | undefined;
  private host: Host | undefined;
  private auth: ServerAuthenticator | undefined;
  private readonly streams = new Set<EventStream>();
  private readonly console = new ConsoleFiles();
  private stopping: Promise<void> | undefined;
  /** Incident changes kept for streams that resume (created at start). */
  private incidentLog: IncidentLog | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: AdminExtensionConfig,
  ) {}

  get jaegerUiUrl(): string | undefined {
    return this.config.jaeger_ui_url;
  }

  now(): number {
    return this.settings.clock.now();
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    this.incidentLog = new IncidentLog(() => this.settings.clock.now(), this.jaegerUiUrl);
    this.incidentLog.follow(this.incidents(undefined));
    this.auth = resolveAuthenticator(
      host,
      this.config.auth?.authenticator,
      `extensions.${this.settings.id}`,
    );
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        this.settings.logger.error({ err, url: req.url }, 'admin API request failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error; see the sidecar log' });
        else res.end();
      });
    };
    const server = this.config.tls
      ? https.createServer(serverTlsOptions(this.config.tls), handler)
      : http.createServer(handler);
    server.requestTimeout = 60_000;
    guardHttpServer(
      server,
      { ...SMALL_SERVER_GUARD, tls: this.config.tls },
      connectionMetrics(this.settings.metrics, this.settings.id, 'http'),
    );
    await listen(server, this.config.endpoint, 'the admin API');
    this.server = server;
    this.settings.logger.info({ endpoint: this.address() }, 'admin API listening');
  }

  /** The bound address, useful when the configured port is 0. */
  address(): string | undefined {
    return boundAddress(this.server);
  }

  detectors(processor: string | undefined): { id: string; detector: AnomalyHistory }[] {
    return (this.host?.lookup(ANOMALY_HISTORY) ?? [])
      .filter((p) => processor === undefined || p.id === processor)
      .map((p) => ({ id: p.id, detector: p.value }));
  }

  incidents(processor: string | undefined): { id: string; source: IncidentSource }[] {
    return (this.host?.lookup(ANOMALY_INCIDENTS) ?? [])
      .filter((p) => processor === undefined || p.id === processor)
      .map((p) => ({ id: p.id, source: p.value }));
  }

  summaries(exporter: string | undefined): SummarySource[] {
    return summarySources(this.host?.lookup(SUMMARY_STORE) ?? [], exporter);
  }

  async openStream(
    res: http.ServerResponse,
    filter: StreamFilter,
    lastEventId: string | undefined,
  ): Promise<boolean> {
    const opened = this.newStream(res);
    if (!opened) return false;
    const { stream, unsubscribe } = opened;
    await serveAnomalies(
      stream,
      this.detectors(filter.processor),
      filter,
      lastEventId,
      this.jaegerUiUrl,
      (u) => unsubscribe.push(u),
    );
    return true;
  }

  openIncidentStream(
    res: http.ServerResponse,
    processor: string | undefined,
    lastEventId: string | undefined,
  ): boolean {
    const log = this.incidentLog;
    if (!log) return false;
    const opened = this.newStream(res);
    if (!opened) return false;
    opened.unsubscribe.push(log.serve(opened.stream, processor, lastEventId));
    return true;
  }

  private newStream(
    res: http.ServerResponse,
  ): { stream: EventStream; unsubscribe: (() => void)[] } | undefined {
    if (this.streams.size >= this.config.max_stream_clients) return undefined;
    const unsubscribe: (() => void)[] = [];
    const stream = new EventStream(res, this.settings.clock, this.config.stream_heartbeat, () => {
      this.streams.delete(stream);
      for (const u of unsubscribe) u();
    });
    this.streams.add(stream);
    return { stream, unsubscribe };
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of [...this.streams]) s.close();
      this.incidentLog?.close();
      const server = this.server;
      if (!server) return;
      this.server = undefined;
      await closeNow(server);
    })();
    return this.stopping;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // The web console's shell and files hold no data: served to anyone (its API calls need the token).
    const url = new URL(req.url ?? '/', 'http://admin');
    if (this.console.serve(req, res, url.pathname)) return;
    // Credentials first: without them, not even which paths and methods exist is told (404/405).
    if (this.auth && !this.auth.authenticate(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      res.setHeader('Connection', 'close');
      json(res, 401, { error: 'missing or invalid credentials' });
      return;
    }
    const routes = ALL_ROUTES.flatMap((r) => {
      const path = matchPath(r.path, url.pathname);
      return path ? [{ ...r, params: path }] : [];
    });
    if (routes.length === 0) {
      json(res, 404, { error: `no such endpoint: ${url.pathname}` });
      return;
    }
    const route = routes.find((r) => r.method === req.method);
    if (!route) {
      res.setHeader('Allow', routes.map((r) => r.method).join(', '));
      json(res, 405, { error: `${req.method ?? ''} is not allowed on ${url.pathname}` });
      return;
    }
    if (!route.readsBody) req.resume(); // drain whatever was sent
    try {
      const q = new Params(url.searchParams, route.query);
      q.checkNames(url.pathname);
      await route.handle(req, res, q, this, route.params);
    } catch (err) {
      if (err instanceof BodyTooLarge) json(res, 413, { error: err.message });
      else if (err instanceof BadRequest) json(res, 400, { error: err.message });
      else throw err;
    }
  }
}
