import { describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import type { StoredSummary } from '../../src/connectors/llm-summary/internal/store/summary-store.js';
import { useSummaryBed } from '../connectors/llm-summary/harness.js';
import { storedSummary } from '../connectors/llm-summary/stored-summary.js';
import { startTestSidecar } from '../helpers/sidecar.js';

const TRACE = 'aaaabbbbccccddddeeeeffff00001111';
const ID = `${TRACE}-1111222233334444`;
const OTHER = `${TRACE}-5555666677778888`;

function stored(n: number): StoredSummary {
  const id = n === 0 ? ID : `${n.toString(16).padStart(32, '0')}-1111222233334444`;
  return storedSummary(id, n === 0 ? [ID, OTHER] : [id], 1_000 + n, {
    prompt: `Latency anomaly ${n}`,
  });
}

const bed = useSummaryBed();

async function start(o: { auth?: boolean } = {}) {
  const b = await bed(
    {},
    {
      extensions: {
        ...(o.auth ? { bearertokenauth: { token: 's3cret' } } : {}),
        admin: {
          endpoint: '127.0.0.1:0',
          ...(o.auth ? { auth: { authenticator: 'bearertokenauth' } } : {}),
        },
      },
    },
  );
  b.engine.summaries!.insert([stored(0), stored(1), stored(2)]);
  const base = `http://${b.sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
  return { b, base };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('admin API: feedback on summaries and training data', () => {
  it('rates the summary covering any anomaly of its trace; the latest rating wins', async () => {
    const { b, base } = await start();
    b.clock.advance(5_000);
    const res = await post(`${base}/api/v1/anomalies/${OTHER}/feedback`, { rating: 5 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      anomaly_id: OTHER,
      summary_id: ID,
      exporter: 'llm_summary',
      summary: 'CPU was high.',
      rating: 5,
      correction: null,
      rated_at: new Date(b.clock.now()).toISOString(),
    });
    const again = await post(`${base}/api/v1/anomalies/${ID}/feedback`, {
      rating: 1,
      correction: 'CPU was 0.1%; payments was slow.',
    });
    expect((await again.json()) as object).toMatchObject({
      rating: 1,
      correction: 'CPU was 0.1%; payments was slow.',
    });
    expect(b.engine.summaries!.find(ID)).toMatchObject({
      rating: 1,
      correction: 'CPU was 0.1%; payments was slow.',
    });
  });

  it.each([
    [{ rating: 0 }, 'rating: must be an integer from 1 (wrong) to 5 (right), got 0'],
    [{ rating: 4.5 }, 'rating: must be an integer from 1 (wrong) to 5 (right), got 4.5'],
    [{ rating: '5' }, 'rating: must be an integer from 1 (wrong) to 5 (right), got "5"'],
    [{}, 'rating: must be an integer from 1 (wrong) to 5 (right), got nothing'],
    [
      { rating: 3, correction: 7 },
      'correction: must be a string (the summary as it should have been) or null',
    ],
    [
      { rating: 3, stars: 3 },
      'unknown field "stars"; send "rating" (1..5) and optionally "correction"',
    ],
    ['[1, 2]', 'the body must be a JSON object'],
    ['{"rating": ', /^the body is not valid JSON: /],
  ])('answers 400 to %j', async (body, error) => {
    const { base } = await start();
    const res = await post(`${base}/api/v1/anomalies/${ID}/feedback`, body);
    expect(res.status).toBe(400);
    const said = ((await res.json()) as { error: string }).error;
    if (typeof error === 'string') expect(said).toBe(error);
    else expect(said).toMatch(error);
  });

  it('answers 400, 404, 405, 413 and 401 where they belong', async () => {
    const { base } = await start();
    const bad = await post(`${base}/api/v1/anomalies/not-an-id/feedback`, { rating: 3 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: '"not-an-id" is not an anomaly id (<32 hex trace id>-<16 hex span id>)',
    });
    const text = await fetch(`${base}/api/v1/anomalies/${ID}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'rating=5',
    });
    expect(text.status).toBe(400);
    expect(await text.json()).toEqual({
      error: 'send the body as application/json (got "text/plain")',
    });
    const unknown = await post(`${base}/api/v1/anomalies/${TRACE}-9999999999999999/feedback`, {
      rating: 3,
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: `no summary covers anomaly "${TRACE}-9999999999999999" (yet: summaries are written in batches)`,
    });
    const wrongExporter = await post(
      `${base}/api/v1/anomalies/${ID}/feedback?exporter=llm_summary/x`,
      { rating: 3 },
    );
    expect(wrongExporter.status).toBe(404);
    expect(await wrongExporter.json()).toEqual({
      error: 'no llm_summary exporter "llm_summary/x" is running',
    });
    const get = await fetch(`${base}/api/v1/anomalies/${ID}/feedback`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const huge = await post(`${base}/api/v1/anomalies/${ID}/feedback`, {
      rating: 3,
      correction: 'x'.repeat(70_000),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({ error: 'the body is larger than 65536 bytes' });
    const long = await post(`${base}/api/v1/anomalies/${ID}/feedback`, {
      rating: 3,
      correction: 'x'.repeat(20_000),
    });
    expect(long.status).toBe(400);
  });

  it('needs credentials when the admin API has an authenticator', async () => {
    const { base } = await start({ auth: true });
    expect((await post(`${base}/api/v1/anomalies/${ID}/feedback`, { rating: 3 })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/training-data.jsonl`)).status).toBe(401);
    const ok = await post(
      `${base}/api/v1/anomalies/${ID}/feedback`,
      { rating: 3 },
      { authorization: 'Bearer s3cret' },
    );
    expect(ok.status).toBe(200);
  });

  it('exports one JSON line per rated summary, oldest rating first, filtered by since', async () => {
    const { b, base } = await start();
    b.clock.advance(1_000);
    await post(`${base}/api/v1/anomalies/${stored(2).id}/feedback`, { rating: 5 });
    b.clock.advance(1_000);
    await post(`${base}/api/v1/anomalies/${ID}/feedback`, {
      rating: 1,
      correction: 'payments was slow.',
    });
    b.clock.advance(1_000);
    await post(`${base}/api/v1/anomalies/${stored(1).id}/feedback`, { rating: 2 });
    const res = await fetch(`${base}/api/v1/training-data.jsonl`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="training-data.jsonl"',
    );
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const rows = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r['id'], r['rating']])).toEqual([
      [stored(2).id, 5],
      [ID, 1],
      [stored(1).id, 2],
    ]);
    expect(rows[1]).toEqual({
      id: ID,
      anomaly_ids: [ID, OTHER],
      trace_id: TRACE,
      exporter: 'llm_summary',
      provider: 'ollama',
      model: 'llama3.2:1b',
      system: 'You are an SRE assistant.',
      prompt: 'Latency anomaly 0',
      completion: 'CPU was high.',
      rating: 1,
      correction: 'payments was slow.',
      fallback_reason: null,
      created_at: new Date(1_000).toISOString(),
      rated_at: new Date(b.clock.now() - 1_000).toISOString(),
      messages: [
        { role: 'system', content: 'You are an SRE assistant.' },
        { role: 'user', content: 'Latency anomaly 0' },
        { role: 'assistant', content: 'payments was slow.' },
      ],
    });
    // Rated good without a correction: the completion is the example; rated bad: no example.
    expect((rows[0]!['messages'] as { content: string }[])[2]!.content).toBe('CPU was high.');
    expect(rows[2]!['messages']).toBeNull();
    const since = await fetch(`${base}/api/v1/training-data.jsonl?since=${b.clock.now() - 1_500}`);
    expect(
      (await since.text())
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual([ID, stored(1).id]);
    const badSince = await fetch(`${base}/api/v1/training-data.jsonl?since=yesterday`);
    expect(badSince.status).toBe(400);
  });
});

describe('admin API without an llm_summary exporter', () => {
  it('answers 404 saying that summaries come with it', async () => {
    const sidecar = await startTestSidecar(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { debug: {} }
extensions: { admin: { endpoint: 127.0.0.1:0 } }
service:
  extensions: [admin]
  pipelines: { traces: { receivers: [otlp], exporters: [debug] } }
  telemetry: { metrics: { level: none } }
`);
    try {
      const base = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
      for (const res of [
        await post(`${base}/api/v1/anomalies/${ID}/feedback`, { rating: 3 }),
        await fetch(`${base}/api/v1/training-data.jsonl`),
      ]) {
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual({
          error: 'no llm_summary exporter is running: summaries and feedback come with it',
        });
      }
    } finally {
      await sidecar.shutdown();
    }
  });
});
