import type http from 'node:http';
import {
  incidentJson,
  type IncidentQuery,
  type IncidentSource,
} from '../../detectors/anomaly/contract.js';
import { BadRequest, type Params } from './params.js';
import { json, type AdminContext, type Route } from './routes.js';
import { lastEventId } from './stream-place.js';

/** The anomaly processors with incidents on; answers 404 (and undefined) when there is none. */
function sourcesOr404(
  res: http.ServerResponse,
  ctx: AdminContext,
  processor: string | undefined,
): { id: string; source: IncidentSource }[] | undefined {
  const list = ctx.incidents(processor);
  if (list.length > 0) return list;
  json(res, 404, {
    error:
      'incidents are not enabled: no anomaly processor with incidents.enabled runs in a traces pipeline',
  });
  return undefined;
}

function statusOf(q: Params): IncidentQuery['status'] {
  const v = q.text('status');
  if (v === undefined || v === 'open' || v === 'resolved') return v;
  throw new BadRequest(`status: "${v}" must be open or resolved`);
}

/**
 * `GET /api/v1/incidents`, `/api/v1/incidents/{id}`, `/api/v1/incidents/stream` (server-sent
 * `event: incident`) and `GET /api/v1/health` (per service: ok, degraded or critical from its
 * open incidents). The stream is listed before `{id}`, which would match it too.
 */
export const INCIDENT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/incidents',
    query: ['processor', 'status', 'service', 'min_severity', 'since', 'limit'],
    handle(_req, res, q, ctx) {
      const query: IncidentQuery = {
        status: statusOf(q),
        service: q.text('service'),
        minSeverity: q.severity('min_severity'),
        sinceMs: q.time('since', ctx.now()),
        limit: q.integer('limit', 100, 1, 1_000),
      };
      const list = sourcesOr404(res, ctx, q.text('processor'));
      if (!list) return;
      const incidents = list
        .flatMap(({ id, source }) => source.list(query).map((v) => ({ id, v })))
        .sort((a, b) => b.v.openedAt - a.v.openedAt)
        .slice(0, query.limit)
        .map(({ id, v }) => incidentJson(id, v, ctx.jaegerUiUrl));
      json(res, 200, { incidents });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/incidents/stream',
    query: ['processor', 'last_event_id'],
    handle(req, res, q, ctx) {
      const processor = q.text('processor');
      if (!sourcesOr404(res, ctx, processor)) return;
      const last = lastEventId(req.headers['last-event-id'], q.text('last_event_id'));
      if (!ctx.openIncidentStream(res, processor, last)) {
        res.setHeader('Retry-After', '5');
        json(res, 503, { error: 'too many event-stream clients; retry later' });
      }
    },
  },
  {
    method: 'GET',
    path: '/api/v1/incidents/{id}',
    query: ['processor'],
    handle(_req, res, q, ctx, path) {
      const list = sourcesOr404(res, ctx, q.text('processor'));
      if (!list) return;
      for (const { id, source } of list) {
        const v = source.get(path.id!);
        if (v) {
          json(res, 200, incidentJson(id, v, ctx.jaegerUiUrl));
          return;
        }
      }
      json(res, 404, { error: `no incident "${path.id}"` });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/health',
    query: ['processor'],
    handle(_req, res, q, ctx) {
      const list = sourcesOr404(res, ctx, q.text('processor'));
      if (!list) return;
      const services = new Map<string, { worst: number; incidents: string[] }>();
      for (const { source } of list) {
        for (const service of source.services()) {
          if (!services.has(service)) services.set(service, { worst: 0, incidents: [] });
        }
        for (const v of source.openIncidents()) {
          for (const { service } of v.services) {
            const h = services.get(service) ?? { worst: 0, incidents: [] };
            if (h.worst === 0 || v.severity < h.worst) h.worst = v.severity;
            h.incidents.push(v.id);
            services.set(service, h);
          }
        }
      }
      json(res, 200, {
        services: [...services]
          .map(([service, h]) => ({
            service,
            status: h.worst === 0 ? 'ok' : h.worst <= 2 ? 'critical' : 'degraded',
            incidents: h.incidents,
          }))
          .sort((a, b) => rank(a.status) - rank(b.status) || a.service.localeCompare(b.service)),
      });
    },
  },
];

function rank(status: string): number {
  return status === 'critical' ? 0 : status === 'degraded' ? 1 : 2;
}
