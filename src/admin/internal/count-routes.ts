import { severityName } from '../../detectors/anomaly/contract.js';
import { BadRequest } from './params.js';
import { detectorsOr404, json, type Route } from './routes.js';

const DEFAULT_SPAN_MS = 6 * 3_600_000;
const DEFAULT_STEP_MS = 10 * 60_000;
const MAX_STEPS = 1_000;

/**
 * `GET /api/v1/anomalies/counts`: tagged spans per service over time (the console's tiles), from
 * the anomaly history and what is not written yet. Counting is done by the database.
 */
export const COUNT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/anomalies/counts',
    query: ['processor', 'service', 'min_severity', 'since', 'step'],
    async handle(_req, res, q, ctx) {
      const untilMs = ctx.now();
      const sinceMs = q.time('since', untilMs) ?? untilMs - DEFAULT_SPAN_MS;
      const stepMs = q.duration('step') ?? DEFAULT_STEP_MS;
      if (sinceMs >= untilMs) throw new BadRequest('since: must be before now');
      const steps = Math.ceil((untilMs - sinceMs) / stepMs);
      if (steps > MAX_STEPS) {
        throw new BadRequest(
          `step: ${steps} steps from since to now; at most ${MAX_STEPS} (use a longer step or a later since)`,
        );
      }
      const query = {
        service: q.text('service'),
        minSeverity: q.severity('min_severity'),
        sinceMs,
        untilMs,
        stepMs,
      };
      const list = detectorsOr404(res, ctx, q.text('processor'));
      if (!list) return;
      const read = await Promise.all(
        list.map(async ({ id, detector }) => ({ id, counts: await detector.loadCounts(query) })),
      );
      const services = read.flatMap(({ id, counts }) =>
        counts.map((c) => ({
          processor: id,
          service: c.service,
          total: c.total,
          by_severity: Object.fromEntries(
            [1, 2, 3, 4, 5].map((s) => [severityName(s), c.bySeverity[s]]),
          ),
          counts: c.steps,
        })),
      );
      json(res, 200, {
        since: new Date(sinceMs).toISOString(),
        until: new Date(untilMs).toISOString(),
        step_ms: stepMs,
        services,
      });
    },
  },
];
