import { once } from 'node:events';
import type http from 'node:http';
import type {
  Feedback,
  StoredSummary,
  SummarySource,
} from '../../connectors/llm-summary/contract.js';
import { readJsonObject } from './body.js';
import { BadRequest } from './params.js';
import type { Route } from './routes.js';
import { json } from './routes.js';

const MAX_BODY = 64 * 1024;
const MAX_CORRECTION = 16 * 1024;
const ANOMALY_ID = /^[0-9a-f]{32}-[0-9a-f]{16}$/;

/** Checks a feedback body: `{"rating": 1..5, "correction": "..." | null}`. */
function parseFeedback(body: Record<string, unknown>): Feedback {
  for (const key of Object.keys(body)) {
    if (key !== 'rating' && key !== 'correction') {
      throw new BadRequest(
        `unknown field "${key}"; send "rating" (1..5) and optionally "correction"`,
      );
    }
  }
  const rating = body['rating'];
  if (typeof rating !== 'number' || !Number.isInteger(rating) || rating < 1 || rating > 5) {
    throw new BadRequest(
      `rating: must be an integer from 1 (wrong) to 5 (right), got ${JSON.stringify(rating) ?? 'nothing'}`,
    );
  }
  const correction = body['correction'] ?? null;
  if (correction !== null && typeof correction !== 'string') {
    throw new BadRequest(
      'correction: must be a string (the summary as it should have been) or null',
    );
  }
  if (typeof correction === 'string' && correction.length > MAX_CORRECTION) {
    throw new BadRequest(`correction: at most ${MAX_CORRECTION} characters`);
  }
  return {
    rating,
    correction: correction === null || correction.trim() === '' ? null : correction,
  };
}

function sourcesOr404(
  res: http.ServerResponse,
  sources: SummarySource[],
  exporter: string | undefined,
) {
  if (sources.length > 0) return sources;
  json(res, 404, {
    error:
      exporter === undefined
        ? 'no llm_summary exporter is running: summaries and feedback come with it'
        : `no llm_summary exporter "${exporter}" is running`,
  });
  return undefined;
}

/** A training example: what was asked, what the model said, and what the SRE said of it. */
function trainingRecord(exporter: string, s: StoredSummary): Record<string, unknown> {
  // A chat-format example to train on: the corrected summary, or the model's when rated good.
  const target = s.correction ?? (s.rating !== null && s.rating >= 4 ? s.completion : null);
  return {
    id: s.id,
    anomaly_ids: s.anomalyIds,
    trace_id: s.traceId,
    exporter,
    provider: s.provider,
    model: s.model,
    system: s.systemPrompt,
    prompt: s.prompt,
    completion: s.completion,
    rating: s.rating,
    correction: s.correction,
    fallback_reason: s.fallbackReason,
    created_at: new Date(s.createdAt).toISOString(),
    rated_at: s.ratedAt === null ? null : new Date(s.ratedAt).toISOString(),
    messages:
      target === null
        ? null
        : [
            { role: 'system', content: s.systemPrompt },
            { role: 'user', content: s.prompt },
            { role: 'assistant', content: target },
          ],
  };
}

/** `POST /api/v1/anomalies/{id}/feedback` and `GET /api/v1/training-data.jsonl`. */
export const FEEDBACK_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/v1/anomalies/{id}/feedback',
    query: ['exporter'],
    readsBody: true,
    async handle(req, res, q, ctx, path) {
      const id = path['id']!;
      if (!ANOMALY_ID.test(id)) {
        req.resume();
        throw new BadRequest(`"${id}" is not an anomaly id (<32 hex trace id>-<16 hex span id>)`);
      }
      const exporter = q.text('exporter');
      const sources = sourcesOr404(res, ctx.summaries(exporter), exporter);
      if (!sources) {
        req.resume();
        return;
      }
      const feedback = parseFeedback(await readJsonObject(req, MAX_BODY));
      const open = sources.filter((s) => s.store !== undefined);
      if (open.length === 0) {
        json(res, 503, { error: 'the summary store is not available; see the sidecar log' });
        return;
      }
      for (const { id: source, store } of open) {
        const s = store!.rate(id, feedback, ctx.now());
        if (!s) continue;
        json(res, 200, {
          anomaly_id: id,
          summary_id: s.id,
          exporter: source,
          summary: s.summary,
          rating: s.rating,
          correction: s.correction,
          rated_at: new Date(s.ratedAt!).toISOString(),
        });
        return;
      }
      json(res, 404, {
        error: `no summary covers anomaly "${id}" (yet: summaries are written in batches)`,
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/training-data.jsonl',
    query: ['since', 'exporter'],
    async handle(_req, res, q, ctx) {
      const since = q.time('since', ctx.now());
      const exporter = q.text('exporter');
      const sources = sourcesOr404(res, ctx.summaries(exporter), exporter);
      if (!sources) return;
      res.writeHead(200, {
        'Content-Type': 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': 'attachment; filename="training-data.jsonl"',
      });
      for (const { id, store } of sources) {
        if (!store) continue;
        for (const s of store.rated(since)) {
          if (res.write(`${JSON.stringify(trainingRecord(id, s))}\n`)) continue;
          // Backpressure: wait for the client, or stop if it went away.
          await Promise.race([once(res, 'drain'), once(res, 'close')]);
          if (res.destroyed) return;
        }
      }
      res.end();
    },
  },
];
