import type http from 'node:http';
import type { AnomalyHistory } from '../../detectors/anomaly/contract.js';
import type { IncidentEngine } from '../../detectors/anomaly/incidents/engine.js';
import type { IncidentQuery } from '../../detectors/anomaly/incidents/incident-store.js';
import type { IncidentView } from '../../detectors/anomaly/incidents/incident.js';
import { incidentJson } from './incident-json.js';
import { BadRequest, type Params } from './params.js';
import { json, type AdminContext, type Route } from './routes.js';

interface Source {
  readonly id: string;
  readonly detector: AnomalyHistory;
  readonly engine: IncidentEngine;
}

/** The anomaly processors with incidents on; answers 404 (and undefined) when there is none. */
export function incidentSources(
  res: http.ServerResponse,
  ctx: AdminContext,
  processor: string | undefined,
): Source[] | undefined {
  const list = ctx
    .detectors(processor)
    .flatMap(({ id, detector }) =>
      detector.incidents ? [{ id, detector, engine: detector.incidents }] : [],
    );
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

/** Reads the stored incidents; while the database cannot be read, those in memory are served. */
function listOf(s: Source, query: IncidentQuery): IncidentView[] {
  try {
    return s.engine.list(query, s.detector.incidentStore());
  } catch {
    return s.engine.list(query, undefined);
  }
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
    handle(_req, res, q, ctx) {
      const query: IncidentQuery = {
        status: statusOf(q),
        service: q.text('service'),
        minSeverity: q.severity('min_severity'),
        sinceMs: q.time('since', ctx.now()),
        limit: q.integer('limit', 100, 1, 1_000),
      };
      const list = incidentSources(res, ctx, q.text('processor'));
      if (!list) return;
      const incidents = list
        .flatMap((s) => listOf(s, query).map((v) => ({ id: s.id, v })))
        .sort((a, b) => b.v.openedAt - a.v.openedAt)
        .slice(0, query.limit)
        .map(({ id, v }) => incidentJson(id, v, ctx.jaegerUiUrl));
      json(res, 200, { incidents });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/incidents/stream',
    handle(_req, res, q, ctx) {
      const processor = q.text('processor');
      if (!incidentSources(res, ctx, processor)) return;
      if (!ctx.openIncidentStream(res, processor)) {
        res.setHeader('Retry-After', '5');
        json(res, 503, { error: 'too many event-stream clients; retry later' });
      }
    },
  },
  {
    method: 'GET',
    path: '/api/v1/incidents/{id}',
    handle(_req, res, q, ctx, path) {
      const list = incidentSources(res, ctx, q.text('processor'));
      if (!list) return;
      for (const s of list) {
        let v: IncidentView | undefined;
        try {
          v = s.engine.get(path.id!, s.detector.incidentStore());
        } catch {
          v = s.engine.get(path.id!, undefined);
        }
        if (v) {
          json(res, 200, incidentJson(s.id, v, ctx.jaegerUiUrl));
          return;
        }
      }
      json(res, 404, { error: `no incident "${path.id}"` });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/health',
    handle(_req, res, q, ctx) {
      const list = incidentSources(res, ctx, q.text('processor'));
      if (!list) return;
      const services = new Map<string, { worst: number; incidents: string[] }>();
      for (const s of list) {
        for (const k of s.detector.keys({})) {
          if (!services.has(k.service)) services.set(k.service, { worst: 0, incidents: [] });
        }
        for (const v of s.engine.openIncidents()) {
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
