import type http from 'node:http';
import {
  matches,
  spanKindName,
  type AnomalyHistory,
  type AnomalyRecord,
  type IncidentSource,
} from '../../detectors/anomaly/contract.js';
import type { SummarySource } from '../../connectors/llm-summary/contract.js';
import { anomalyJson } from './anomaly-json.js';
import type { Params } from './params.js';
import { lastEventId } from './stream-place.js';

/** What the routes need from the extension. */
export interface AdminContext {
  /** The anomaly processors of the running graph (one entry per processor id). */
  detectors(processor: string | undefined): { id: string; detector: AnomalyHistory }[];
  /** The incidents of the anomaly processors that have them on (one entry per processor id). */
  incidents(processor: string | undefined): { id: string; source: IncidentSource }[];
  /** The summary stores of the running llm_summary connectors (one entry per id). */
  summaries(exporter: string | undefined): SummarySource[];
  readonly jaegerUiUrl: string | undefined;
  now(): number;
  /**
   * Serves `res` as an event stream of anomalies matching `filter`, resuming after `lastEventId`
   * when given (anomaly-stream.ts); false when full.
   */
  openStream(
    res: http.ServerResponse,
    filter: StreamFilter,
    lastEventId: string | undefined,
  ): Promise<boolean>;
  /** Serves `res` as an event stream of incident changes (incident-log.ts); false when full. */
  openIncidentStream(
    res: http.ServerResponse,
    processor: string | undefined,
    lastEventId: string | undefined,
  ): boolean;
}

export interface StreamFilter {
  readonly processor?: string | undefined;
  readonly service?: string | undefined;
  readonly operation?: string | undefined;
  readonly minSeverity?: number | undefined;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** The path; a `{name}` segment matches any one segment, handed to `handle` in `path`. */
  readonly path: string;
  /** The handler reads the request body (otherwise it is drained unread). */
  readonly readsBody?: boolean;
  /** The query parameters it takes; any other is answered 400 (`_`, a cache buster, aside). */
  readonly query: readonly string[];
  handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    q: Params,
    ctx: AdminContext,
    path: Readonly<Record<string, string>>,
  ): Promise<void> | void;
}

/** The `{name}` segments of `pattern` in `pathname`, or undefined when it does not match. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (got[i] === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(got[i]!);
      } catch {
        return undefined;
      }
    } else if (w !== got[i]) {
      return undefined;
    }
  }
  return params;
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

export function detectorsOr404(
  res: http.ServerResponse,
  ctx: AdminContext,
  processor: string | undefined,
): { id: string; detector: AnomalyHistory }[] | undefined {
  const list = ctx.detectors(processor);
  if (list.length > 0) return list;
  json(res, 404, {
    error:
      processor === undefined
        ? 'no anomaly processor is running in any traces pipeline'
        : `no anomaly processor "${processor}" is running`,
  });
  return undefined;
}

/**
 * The admin API of DESIGN.md for baselines and anomalies. Feedback on summaries and the
 * training-data export are in `feedback-routes.ts`; the extension serves both tables.
 */
export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/baselines',
    query: ['processor', 'service', 'operation', 'kind'],
    handle(_req, res, q, ctx) {
      const processor = q.text('processor');
      const service = q.text('service');
      const operation = q.text('operation');
      const kind = q.kind('kind');
      const list = detectorsOr404(res, ctx, processor);
      if (!list) return;
      if (service === undefined) {
        // Without a service: the keys there are, to pick from.
        const keys = list.flatMap(({ id, detector }) =>
          detector.keys({ operation, kind }).map((k) => ({
            processor: id,
            service: k.service,
            operation: k.operation,
            kind: spanKindName(k.kind),
            samples: k.count(),
            // Enough spans to be scored: what the console's "learning: N of M" counts.
            has_baseline: k.count() >= detector.config.min_samples,
          })),
        );
        json(res, 200, { keys });
        return;
      }
      const baselines = list.flatMap(({ id, detector }) =>
        detector
          .keys({ service, operation, kind })
          .map((k) => ({ processor: id, ...detector.profile(k) })),
      );
      if (baselines.length === 0) {
        json(res, 404, {
          error: `no baseline for service "${service}"${operation === undefined ? '' : ` and operation "${operation}"`}`,
        });
        return;
      }
      json(res, 200, { baselines });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/anomalies',
    query: ['processor', 'service', 'operation', 'min_severity', 'since', 'limit'],
    async handle(_req, res, q, ctx) {
      const query = {
        service: q.text('service'),
        operation: q.text('operation'),
        minSeverity: q.severity('min_severity'),
        sinceMs: q.time('since', ctx.now()),
        limit: q.integer('limit', 100, 1, 10_000),
      };
      const list = detectorsOr404(res, ctx, q.text('processor'));
      if (!list) return;
      const read = await Promise.all(
        list.map(async ({ id, detector }) =>
          (await detector.loadHistory(query)).map((r) => ({ processor: id, record: r })),
        ),
      );
      const anomalies = read
        .flat()
        .sort((a, b) => b.record.startMs - a.record.startMs)
        .slice(0, query.limit)
        .map(({ processor, record }) => ({ processor, ...anomalyJson(record, ctx.jaegerUiUrl) }));
      json(res, 200, { anomalies });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/anomalies/stream',
    query: ['processor', 'service', 'operation', 'min_severity', 'last_event_id'],
    async handle(req, res, q, ctx) {
      const filter: StreamFilter = {
        processor: q.text('processor'),
        service: q.text('service'),
        operation: q.text('operation'),
        minSeverity: q.severity('min_severity'),
      };
      if (!detectorsOr404(res, ctx, filter.processor)) return;
      const last = lastEventId(req.headers['last-event-id'], q.text('last_event_id'));
      if (!(await ctx.openStream(res, filter, last))) {
        res.setHeader('Retry-After', '5');
        json(res, 503, { error: 'too many event-stream clients; retry later' });
      }
    },
  },
  {
    method: 'POST',
    path: '/api/v1/recalculate',
    query: ['processor'],
    async handle(_req, res, q, ctx) {
      const list = detectorsOr404(res, ctx, q.text('processor'));
      if (!list) return;
      try {
        const results = [];
        for (const { id, detector } of list) {
          results.push({ processor: id, ...(await detector.recalculate()) });
        }
        json(res, 200, { results });
      } catch (err) {
        json(res, 503, {
          error: `recalculation failed: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    },
  },
];

/** True if an anomaly passes a stream's filter. */
export function streamWants(filter: StreamFilter, processor: string, r: AnomalyRecord): boolean {
  return (filter.processor === undefined || filter.processor === processor) && matches(r, filter);
}
