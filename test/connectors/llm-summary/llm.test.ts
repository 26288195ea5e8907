import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { useLlmServer, type LlmServer } from '../../helpers/llm-server.js';
import { metricValue, useSummaryBed } from './harness.js';
import { metricsRequest } from './metric-data.js';
import { checkoutTrace, spanIdOf, T0, traceIdOf } from './trace-data.js';

const bed = useSummaryBed();
const server = useLlmServer();
let llm: LlmServer;
beforeEach(() => {
  llm = server();
});

/** A real HTTP server recording JSON posts (a chat webhook) or answering GETs (Prometheus). */
async function jsonServer(answer: (req: http.IncomingMessage, body: string) => unknown) {
  const bodies: { path: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push({ path: req.url ?? '', body });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(answer(req, body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ollama = () => ({
  provider: 'ollama',
  endpoint: llm.url,
  model: 'llama3.2:1b',
  trace_window: '2s',
  batch: { timeout: '10s', max_anomalies: 10 },
  timeout: '20s',
});

describe('llm_summary with a model server', () => {
  it('ollama, streaming: the model writes the summary; prompt and completion are kept; tokens and cost counted', async () => {
    llm.defaultText =
      'Summary: payments POST /charge spent 500 ms on its own. CPU was 0.1%, not the cause. CPU was 0.1%, not the cause.';
    const b = await bed({
      ...ollama(),
      stream: true,
      cost: { prompt_per_1k_tokens: 0.5, completion_per_1k_tokens: 1.5 },
    });
    await b.sendMetrics(
      metricsRequest('payments', [
        { type: 'gauge', name: 'process.cpu.utilization', points: [{ atMs: T0, value: 0.001 }] },
      ]),
    );
    await b.send(checkoutTrace(1, 500, { frontend: 1, client: 1, payments: 1 }));
    b.clock.advance(2_000);
    b.clock.advance(10_000);
    await b.sink.waitFor(5);
    await b.engine.idle();
    const req = llm.requests[0]!;
    expect(req.path).toBe('/api/generate');
    expect(req.body).toMatchObject({
      model: 'llama3.2:1b',
      stream: true,
      options: { temperature: 0.2, repeat_penalty: 1.1, num_predict: 300 },
    });
    expect(req.body['prompt']).toContain('- payments: CPU 0.1%.');
    expect(req.body['prompt']).toContain('<- origin');
    const [s] = b.summaries();
    expect(s!.attributes).toMatchObject({
      'anomaly.summary.text':
        'payments POST /charge spent 500 ms on its own. CPU was 0.1%, not the cause.',
      'anomaly.summary.provider': 'ollama',
      'anomaly.summary.model': 'llama3.2:1b',
      'anomaly.summary.origin.service': 'payments',
    });
    const stored = b.engine.summaries!.find(`${traceIdOf(1)}-${spanIdOf(13)}`)!;
    expect(stored.prompt).toBe(req.body['prompt']);
    expect(stored.systemPrompt).toBe(req.body['system']);
    expect(stored.completion).toBe(llm.defaultText); // exactly as the model wrote it
    const promptTokens = `${req.body['system']} ${req.body['prompt']}`
      .split(/\s+/)
      .filter(Boolean).length;
    const completionTokens = llm.defaultText.split(/\s+/).length;
    expect(
      await metricValue(b.sidecar, 'hourglass_llm_summary_tokens_total', { type: 'prompt' }),
    ).toBe(promptTokens);
    expect(
      await metricValue(b.sidecar, 'hourglass_llm_summary_tokens_total', { type: 'completion' }),
    ).toBe(completionTokens);
    expect(await metricValue(b.sidecar, 'hourglass_llm_summary_cost_total')).toBeCloseTo(
      (promptTokens / 1000) * 0.5 + (completionTokens / 1000) * 1.5,
      9,
    );
    expect(
      await metricValue(b.sidecar, 'hourglass_llm_summary_requests_total', { result: 'ok' }),
    ).toBe(1);
  });

  it('openai-compatible, streaming, with an API key', async () => {
    llm.apiKey = 'sk-local';
    const b = await bed({
      provider: 'openai',
      endpoint: `${llm.url}/v1`,
      model: 'qwen2.5-1.5b-instruct',
      api_key: 'sk-local',
      stream: true,
      trace_window: '1s',
      batch: { timeout: '1s' },
    });
    await b.send(checkoutTrace(1, 500, { payments: 1 }));
    b.clock.advance(1_000);
    b.clock.advance(1_000);
    await b.sink.waitFor(5);
    await b.engine.idle();
    expect(llm.requests[0]!.path).toBe('/v1/chat/completions');
    expect(b.summaries()[0]!.attributes).toMatchObject({
      'anomaly.summary.provider': 'openai',
      'anomaly.summary.model': 'qwen2.5-1.5b-instruct',
      'anomaly.summary.text': llm.defaultText,
    });
  });

  it('never stalls the pipeline: spans keep flowing while the model hangs; the timeout falls back to the built-in summary', async () => {
    llm.answerAll({ kind: 'hang' });
    const b = await bed({ ...ollama(), batch: { timeout: '1s', max_anomalies: 10 } });
    await b.send(checkoutTrace(1, 500, { payments: 1 }));
    b.clock.advance(2_000);
    b.clock.advance(1_000);
    await llm.waitForRequests(1); // the model request is under way, and hangs
    // Meanwhile: 200 more traces, every one forwarded at once, none waiting for the model.
    for (let n = 100; n < 300; n++)
      await b.send(checkoutTrace(n, n % 10 === 0 ? 400 : 0, n % 10 === 0 ? { payments: 2 } : {}));
    await b.sink.waitFor(4 + 200 * 4);
    expect(llm.waiting).toBe(1);
    expect(b.summaries()).toEqual([]);
    b.clock.advance(20_000); // the request's timeout, on the clock
    await b.sink.waitFor(4 + 200 * 4 + 1);
    const [s] = b.summaries();
    expect(s!.traceId).toBe(traceIdOf(1));
    expect(s!.attributes).toMatchObject({
      'anomaly.summary.provider': 'builtin',
      'anomaly.summary.fallback_reason': 'timeout',
    });
    expect(
      await metricValue(b.sidecar, 'hourglass_llm_summary_requests_total', { result: 'timeout' }),
    ).toBe(1);
    // No span was lost or delayed: every span id sent reached Jaeger once.
    const ids = b.sink.spans().map((x) => x.spanId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a slow model (answering within the timeout) writes the summary; spans flowed meanwhile', async () => {
    llm.next(1, { kind: 'stall' });
    const b = await bed({ ...ollama(), stream: true, batch: { timeout: '1s' } });
    await b.send(checkoutTrace(1, 500, { payments: 1 }));
    b.clock.advance(2_000);
    b.clock.advance(1_000);
    await llm.waitForRequests(1); // it has begun to answer, and stalls
    for (let n = 100; n < 150; n++) await b.send(checkoutTrace(n, 0));
    await b.sink.waitFor(4 + 50 * 4);
    expect(b.summaries()).toEqual([]);
    b.clock.advance(19_000); // still within the 20 s timeout
    llm.release();
    await b.sink.waitFor(4 + 50 * 4 + 1);
    expect(b.summaries()[0]!.attributes).toMatchObject({
      'anomaly.summary.provider': 'ollama',
      'anomaly.summary.text': llm.defaultText,
    });
  });

  it('shuts down promptly while the model hangs: the built-in summary goes out instead', async () => {
    llm.answerAll({ kind: 'hang' });
    const b = await bed({ ...ollama(), batch: { timeout: '1s' } });
    await b.send(checkoutTrace(1, 500, { payments: 1 })); // its request will hang
    b.clock.advance(2_000);
    b.clock.advance(1_000);
    await llm.waitForRequests(1);
    await b.send(checkoutTrace(2, 500, { payments: 2 })); // still in its trace window
    await b.sidecar.shutdown();
    expect(
      b.summaries().map((s) => [s.traceId, s.attributes['anomaly.summary.fallback_reason']]),
    ).toEqual([
      [traceIdOf(1), 'shutdown'],
      [traceIdOf(2), 'shutdown'],
    ]);
    expect(llm.requests).toHaveLength(1);
  });

  it('the queue is bounded: when full, the least severe anomaly gives way, and drops are counted', async () => {
    llm.answerAll({ kind: 'hang' });
    const b = await bed({ ...ollama(), queue_size: 2, batch: { timeout: '1s', max_anomalies: 1 } });
    await b.send(checkoutTrace(1, 500, { payments: 3 }));
    b.clock.advance(2_000); // trace 1 is queued, its batch of one goes to the model and hangs
    await llm.waitForRequests(1);
    await b.send(checkoutTrace(2, 500, { payments: 3 }));
    await b.send(checkoutTrace(3, 500, { payments: 3 }));
    await b.send(checkoutTrace(4, 500, { payments: 1 }));
    await b.send(checkoutTrace(5, 500, { payments: 3 }));
    // 2, 3, 4, 5 are due; the queue holds two: 4 (SEV1) takes the place of the oldest SEV3 (2),
    // 5 (SEV3, no more severe than what is queued) is dropped.
    b.clock.advance(2_000);
    expect(
      await metricValue(b.sidecar, 'hourglass_llm_summary_dropped_total', { reason: 'queue_full' }),
    ).toBe(2);
    llm.answerAll({ kind: 'answer' });
    llm.release();
    await llm.waitForRequests(3);
    await b.engine.idle();
    b.clock.advance(1_000);
    await b.engine.idle();
    expect(
      b
        .summaries()
        .map((s) => s.traceId)
        .sort(),
    ).toEqual([traceIdOf(1), traceIdOf(3), traceIdOf(4)]);
  });

  it('500s and malformed answers: built-in summaries instead, the circuit opens, then a trial closes it', async () => {
    const b = await bed({
      ...ollama(),
      batch: { timeout: '1s', max_anomalies: 10 },
      circuit_breaker: { failure_threshold: 2, open_duration: '1m' },
    });
    llm.next(1, { kind: 'status', status: 500, message: 'model runner crashed' });
    llm.next(1, { kind: 'malformed' });
    await b.send(checkoutTrace(1, 500, { payments: 1 }));
    await b.send(checkoutTrace(2, 500, { payments: 1 }));
    await b.send(checkoutTrace(3, 500, { payments: 1 }));
    b.clock.advance(2_000); // three traces in one batch: two failures open the circuit, the third is not sent
    b.clock.advance(1_000);
    await b.sink.waitFor(12 + 3);
    await b.engine.idle();
    expect(
      b
        .summaries()
        .map((s) => s.attributes['anomaly.summary.fallback_reason'])
        .sort(),
    ).toEqual(['circuit_open', 'http', 'malformed']);
    expect(llm.requests).toHaveLength(2);
    expect(await metricValue(b.sidecar, 'hourglass_llm_summary_circuit_state')).toBe(1);
    b.clock.advance(60_000); // the circuit lets one trial through; the model answers
    await b.send(checkoutTrace(4, 500, { payments: 1 }));
    b.clock.advance(2_000);
    b.clock.advance(1_000);
    await b.sink.waitFor(16 + 1);
    await b.engine.idle();
    expect(
      b.summaries().find((s) => s.traceId === traceIdOf(4))!.attributes['anomaly.summary.provider'],
    ).toBe('ollama');
    expect(await metricValue(b.sidecar, 'hourglass_llm_summary_circuit_state')).toBe(0);
  });

  it('with fallback none, a failed request publishes nothing and counts the loss', async () => {
    llm.answerAll({ kind: 'status', status: 503, message: 'loading model' });
    const b = await bed({ ...ollama(), fallback: 'none', batch: { timeout: '1s' } });
    await b.send(checkoutTrace(1, 500, { payments: 1 }));
    b.clock.advance(2_000);
    b.clock.advance(10_000);
    await llm.waitForRequests(1);
    await b.engine.idle();
    expect(b.summaries()).toEqual([]);
    expect(
      await metricValue(b.sidecar, 'hourglass_llm_summary_dropped_total', { reason: 'no_summary' }),
    ).toBe(1);
  });

  it('secrets and personal data never leave the process: not to the model, the webhook or Jaeger', async () => {
    const hook = await jsonServer(() => ({ ok: true }));
    try {
      const b = await bed({
        ...ollama(),
        redaction: { allow_attributes: ['*'] },
        webhook: { endpoint: `${hook.url}/services/T0/B0/x` },
        batch: { timeout: '1s' },
      });
      const secrets = {
        'http.request.header.authorization': 'Bearer 9f8e7d6c5b4a3928171615',
        'auth.token': 'tok_live_51HxYzAbCdEf',
        'enduser.id': 'user-31337',
        'customer.email': 'bob@example.com',
        'payment.card.number': '4111111111111111',
        note: 'refund to 4111 1111 1111 1111 for carol@example.com',
        'url.path': '/charge?access_token=abcdef123456',
      };
      const spans = checkoutTrace(1, 500, { frontend: 1, client: 1, payments: 1 }).map((s) =>
        s.service === 'payments' && s.kind === undefined
          ? {
              ...s,
              name: 'POST /charge/dave@example.com',
              attributes: { ...s.attributes, ...secrets },
              status: { code: 2, message: 'declined: eve@example.com token=zzz999secret' },
            }
          : s,
      );
      llm.defaultText = 'payments POST /charge/[email] was slow.';
      await b.send(spans);
      b.clock.advance(2_000);
      b.clock.advance(1_000);
      await b.sink.waitFor(5);
      await b.engine.idle();
      const leaving = [
        ...llm.requests.map((r) => r.raw),
        ...hook.bodies.map((x) => x.body),
        JSON.stringify(b.summaries()),
      ].join('\n');
      for (const needle of [
        '9f8e7d6c5b4a3928171615',
        'tok_live',
        'user-31337',
        'bob@',
        'carol@',
        'dave@',
        'eve@',
        '4111',
        'abcdef123456',
        'zzz999secret',
      ]) {
        expect(leaving).not.toContain(needle);
      }
      expect(llm.requests[0]!.body['prompt']).toContain('note=refund to [card] for [email]');
      expect(hook.bodies).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it('posts each batch to the webhook as a Slack-compatible message with Jaeger links', async () => {
    const hook = await jsonServer(() => ({ ok: true }));
    try {
      const b = await bed({
        trace_window: '1s',
        batch: { timeout: '5s' },
        webhook: { endpoint: `${hook.url}/hooks/abc?x=1`, headers: { 'x-team': 'sre' } },
        jaeger_ui_url: 'http://jaeger:16686/',
      });
      await b.send(checkoutTrace(1, 500, { payments: 1 }));
      await b.send(checkoutTrace(2, 300, { payments: 2, client: 3 }));
      b.clock.advance(1_000);
      b.clock.advance(5_000);
      await b.sink.waitFor(8 + 2);
      await b.engine.idle();
      expect(hook.bodies.map((x) => x.path)).toEqual(['/hooks/abc?x=1']);
      const msg = JSON.parse(hook.bodies[0]!.body) as {
        text: string;
        blocks: { type: string; text: { type: string; text: string } }[];
      };
      expect(msg.text).toBe('hourglass: 2 anomalies summarized (worst SEV1)');
      expect(msg.blocks).toHaveLength(2);
      expect(msg.blocks[0]!.type).toBe('section');
      expect(msg.blocks[0]!.text.type).toBe('mrkdwn');
      expect(msg.blocks[0]!.text.text).toMatch(
        /^\*SEV1\* payments `POST \/charge` \(550\.0 ms\)\n/,
      );
      expect(msg.blocks[0]!.text.text).toContain(
        `<http://jaeger:16686/trace/${traceIdOf(1)}?uiFind=${spanIdOf(13)}|Open the trace in Jaeger>`,
      );
      expect(msg.blocks[1]!.text.text).toMatch(/^\*SEV2\* frontend `POST \/charge`/);
    } finally {
      await hook.close();
    }
  });

  it('reads metrics from Prometheus as a second source, at the anomaly time', async () => {
    const prom = await jsonServer((req) => {
      const q = new URL(req.url ?? '', 'http://x').searchParams.get('query') ?? '';
      const value = q.includes('resident_memory') ? '123456789' : '0.25';
      return {
        status: 'success',
        data: {
          resultType: 'vector',
          result: [{ metric: { job: 'payments' }, value: [T0 / 1000, value] }],
        },
      };
    });
    try {
      const b = await bed({
        ...ollama(),
        batch: { timeout: '1s' },
        prometheus: { endpoint: prom.url },
      });
      await b.send(checkoutTrace(1, 500, { payments: 1 }));
      b.clock.advance(2_000);
      b.clock.advance(1_000);
      await b.sink.waitFor(5);
      await b.engine.idle();
      const cpuQuery = new URL(prom.bodies[0]!.path, 'http://x').searchParams;
      expect(cpuQuery.get('query')).toBe(
        'sum(rate(process_cpu_seconds_total{job="payments"}[1m])) * 100',
      );
      expect(Number(cpuQuery.get('time'))).toBeCloseTo((T0 + 1015) / 1000, 3);
      expect(llm.requests[0]!.body['prompt']).toContain('- payments: CPU 0.25%; memory 117.7 MiB.');
    } finally {
      await prom.close();
    }
  });
});
