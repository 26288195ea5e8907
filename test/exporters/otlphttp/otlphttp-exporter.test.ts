import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../src/component/consumer.js';
import { PermanentError } from '../../../src/component/errors.js';
import { otlpHttpExporterSchema, signalUrl } from '../../../src/exporters/otlphttp/config.js';
import { otlpHttpExporterFactory } from '../../../src/exporters/otlphttp/factory.js';
import type { SinkAnswer } from '../../helpers/otlp-sink.js';
import { logsBatch, metricsBatch, spanIdsOf, traceBatch } from '../batches.js';
import {
  expectDroppedPermanently,
  expectFarTimeoutWaited,
  expectPartialSuccessCounted,
  expectRecoveryFromRefused,
  expectRetriedAfter,
} from '../answer-checks.js';
import { HOST, TEST_RETRY, useTestbed, type Made } from '../harness.js';

const bed = useTestbed();

function create(settings: Record<string, unknown> = {}, signal: Signal = 'traces'): Made {
  return bed.create(
    otlpHttpExporterFactory,
    'otlphttp/jaeger',
    {
      endpoint: bed.sink.httpEndpoint,
      timeout: '2s',
      retry_on_failure: TEST_RETRY,
      sending_queue: { enabled: false },
      ...settings,
    },
    signal,
  );
}

async function make(
  settings: Record<string, unknown> = {},
  signal: Signal = 'traces',
): Promise<Made> {
  const made = create(settings, signal);
  await made.exporter.start(HOST);
  return made;
}

describe('otlphttp exporter: what it does with each HTTP answer', () => {
  const fakeNow = Date.UTC(2026, 0, 5, 0, 0, 0);
  const retried: Array<[string, SinkAnswer, number]> = [
    ['429 with Retry-After: 7 (seconds)', { http: 429, retryAfter: '7' }, 7000],
    [
      '503 with Retry-After as an HTTP-date 4s ahead',
      { http: 503, retryAfter: new Date(fakeNow + 4000).toUTCString() },
      4000,
    ],
    ['503 with RetryInfo in the status body', { http: 503, retryDelayMs: 2500 }, 2500],
    ['502 without a hint: backoff', { http: 502 }, 1000],
    ['504 without a hint: backoff', { http: 504 }, 1000],
  ];

  it.each(retried)('%s: waits, then delivers', async (_name, answer, wait) => {
    await expectRetriedAfter(await make(), bed.sink, answer, wait);
  });

  const dropped: Array<[number, string]> = [
    [400, 'HTTP 400: span name is empty'],
    [401, 'HTTP 401'],
    [403, 'HTTP 403'],
    [404, 'HTTP 404'],
    [413, 'HTTP 413'],
    [500, 'HTTP 500'],
    [501, 'HTTP 501'],
  ];

  it.each(dropped)('%i: permanent, dropped and counted, logged once', async (code, text) => {
    const answer = { http: code, message: code === 400 ? 'span name is empty' : undefined };
    await expectDroppedPermanently(await make(), bed.sink, answer, text);
  });

  it('reads the error message from an OTLP/JSON status body', async () => {
    const { exporter } = await make({ encoding: 'json' });
    bed.sink.answerNext(1, { http: 400, message: 'bad trace id' });
    await expect(exporter.consume(traceBatch(1))).rejects.toThrow('HTTP 400: bad trace id');
  });

  it('reads at most 64 KiB of a response body', async () => {
    const { exporter } = await make();
    bed.sink.answerNext(1, { http: 400, message: 'x'.repeat(1_000_000) });
    const err = (await exporter.consume(traceBatch(1)).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message.length).toBeLessThan(400);
    // The pool is still usable afterwards.
    await exporter.consume(traceBatch(1));
    expect(bed.sink.items()).toBe(1);
  });

  it('an answer slower than the timeout is retried', async () => {
    const { exporter, h, clock } = await make({ timeout: '150ms' });
    bed.sink.answerNext(1, { delayMs: 2_000 });
    const done = exporter.consume(traceBatch(1));
    await clock.timeoutsSet(1);
    expect(h.logged('no answer within the timeout of 150 ms')).toHaveLength(1);
    clock.advance(1000);
    await done;
    expect(bed.sink.requests).toHaveLength(2);
  });

  it('takes a timeout past what a timer can wait (1000h) as a far deadline', async () => {
    await expectFarTimeoutWaited(await make({ timeout: '1000h' }), bed.sink);
  });

  it.each(['proto', 'json'])(
    'partial_success (%s) is a success; the rejected items are counted and logged once',
    async (encoding) => {
      await expectPartialSuccessCounted(await make({ encoding }), bed.sink);
    },
  );

  it('connection refused: warns once, retries, and says when it recovered', async () => {
    await expectRecoveryFromRefused(await make(), bed.sink, `${bed.sink.httpEndpoint}/v1/traces`);
  });
});

describe('otlphttp exporter: requests', () => {
  it('posts protobuf, gzip-compressed, with the configured headers', async () => {
    const { exporter } = await make({ headers: { 'X-Tenant': 'blue' } });
    const batch = traceBatch([{ attributes: { 'db.statement': 'SELECT 1; '.repeat(1000) } }]);
    await exporter.consume(batch);
    const r = bed.sink.requests[0]!;
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['x-tenant']).toBe('blue');
    expect(r.wireBytes).toBeLessThan(batch.bytes.length / 10);
    expect(r.bytes).toEqual(Buffer.from(batch.bytes));
  });

  it('sends an uncompressed body with compression: none', async () => {
    const { exporter } = await make({ compression: 'none' });
    const batch = traceBatch(2);
    await exporter.consume(batch);
    expect(bed.sink.requests[0]!.headers['content-encoding']).toBeUndefined();
    expect(bed.sink.requests[0]!.wireBytes).toBe(batch.bytes.length);
  });

  it('sends OTLP/JSON with encoding: json', async () => {
    const { exporter } = await make({ encoding: 'json' });
    const batch = traceBatch(3);
    await exporter.consume(batch);
    expect(bed.sink.requests[0]!.encoding).toBe('json');
    expect(bed.sink.requests[0]!.headers['content-type']).toBe('application/json');
    expect(bed.sink.spanIds()).toEqual(spanIdsOf(batch));
  });

  it('appends /v1/<signal> to endpoint for every signal', async () => {
    const cases = [
      ['traces', traceBatch(2)],
      ['metrics', metricsBatch(3)],
      ['logs', logsBatch(4)],
    ] as const;
    for (const [signal, batch] of cases) {
      const { exporter } = await make({ endpoint: `${bed.sink.httpEndpoint}/` }, signal);
      await exporter.consume(batch);
    }
    expect(bed.sink.requests.map((r) => [r.signal, r.items])).toEqual([
      ['traces', 2],
      ['metrics', 3],
      ['logs', 4],
    ]);
  });

  it('uses <signal>_endpoint as given, and fails to start a signal that has no URL', async () => {
    const settings = { endpoint: undefined, logs_endpoint: `${bed.sink.httpEndpoint}/v1/logs` };
    const { exporter } = await make(settings, 'logs');
    await exporter.consume(logsBatch(2));
    expect(bed.sink.requests.map((r) => r.signal)).toEqual(['logs']);
    const traces = create(settings, 'traces');
    await expect(traces.exporter.start(HOST)).rejects.toThrow(
      'exporters.otlphttp/jaeger: no URL for traces: set endpoint (a base URL) or traces_endpoint',
    );
  });

  it('composes signal URLs as the Collector does', () => {
    const parse = (v: Record<string, unknown>) => otlpHttpExporterSchema.parse(v);
    expect(signalUrl(parse({ endpoint: 'http://j:4318' }), 'traces')).toBe(
      'http://j:4318/v1/traces',
    );
    expect(signalUrl(parse({ endpoint: 'http://j:4318/otlp/' }), 'logs')).toBe(
      'http://j:4318/otlp/v1/logs',
    );
    expect(
      signalUrl(
        parse({ endpoint: 'http://j:4318', metrics_endpoint: 'https://m:443/ingest' }),
        'metrics',
      ),
    ).toBe('https://m:443/ingest');
  });
});
