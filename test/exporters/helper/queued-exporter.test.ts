import { describe, expect, it } from 'vitest';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import { RefusedError, UnavailableError } from '../../../src/component/errors.js';
import { otlpExporterFactory } from '../../../src/exporters/otlp/factory.js';
import { otlpHttpExporterFactory } from '../../../src/exporters/otlphttp/factory.js';
import { spanIdsOf, traceBatch } from '../batches.js';
import { HOST, INFO, TEST_RETRY, WARN, useTempDirs, useTestbed, type Made } from '../harness.js';

const bed = useTestbed();
const tempDir = useTempDirs();

type Transport = 'grpc' | 'http';

async function make(
  queue: Record<string, unknown> = {},
  transport: Transport = 'http',
  extra: Record<string, unknown> = {},
): Promise<Made> {
  const made =
    transport === 'grpc'
      ? bed.create(otlpExporterFactory, 'otlp/jaeger', {
          endpoint: bed.sink.grpcEndpoint,
          tls: { insecure: true },
          timeout: '2s',
          retry_on_failure: TEST_RETRY,
          sending_queue: queue,
          ...extra,
        })
      : bed.create(otlpHttpExporterFactory, 'otlphttp/jaeger', {
          endpoint: bed.sink.httpEndpoint,
          timeout: '2s',
          retry_on_failure: TEST_RETRY,
          sending_queue: queue,
          ...extra,
        });
  await made.exporter.start(HOST);
  return made;
}

function batches(n: number, spans = 5): OtlpBatch[] {
  return Array.from({ length: n }, () => traceBatch(spans));
}

const sorted = (a: readonly string[]) => [...a].sort();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sending queue', () => {
  it('refuses with a retry hint when full, counts it, and never grows', async () => {
    const { exporter, h } = await make({ queue_size: 3, num_consumers: 1 }, 'http', {
      timeout: '300ms',
    });
    bed.sink.answerAll({ hang: true });
    const sent = batches(4, 2);
    for (const b of sent.slice(0, 3)) await exporter.consume(b);
    await bed.sink.waitForRequests(1);
    const err = await exporter.consume(sent[3]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).retryAfterMs).toBe(1000);
    expect((err as Error).message).toContain(
      'sending queue of exporter otlphttp/jaeger is full (3 batches)',
    );
    await expect(exporter.consume(traceBatch(1))).rejects.toBeInstanceOf(RefusedError);
    expect(await h.metric('otelcol_exporter_enqueue_failed_spans_total')).toBe(3);
    expect(await h.metric('otelcol_exporter_queue_size', { data_type: 'traces' })).toBe(3);
    expect(await h.metric('otelcol_exporter_queue_capacity', { data_type: 'traces' })).toBe(3);
    expect(h.logged('is full')).toHaveLength(1);
  });

  for (const transport of ['grpc', 'http'] as const) {
    it(`${transport}: downstream down for a while, then back: every batch delivered exactly as sent`, async () => {
      const { exporter, h, clock } = await make({ merge_max_bytes: 0 }, transport);
      await bed.sink.stop();
      const sent = batches(25);
      for (const b of sent) await exporter.consume(b);
      // The ten consumers each failed once and wait 1s; the other batches wait in the queue.
      await clock.timeoutsSet(10);
      expect(clock.delays).toEqual(Array(10).fill(1000));
      expect(h.logged('cannot export to')).toHaveLength(1);
      await bed.sink.restart();
      clock.advance(1000);
      await bed.sink.waitFor(125);
      await exporter.shutdown();
      expect(sorted(bed.sink.accepted().map((r) => hex(r.bytes)))).toEqual(
        sorted(sent.map((b) => hex(b.bytes))),
      );
      expect(await h.metric('otelcol_exporter_sent_spans_total')).toBe(125);
      expect(h.logged('recovered after 10 failed attempts')[0]!.level).toBe(INFO);
      expect(h.lines.filter((l) => l.level >= WARN)).toHaveLength(1);
    });
  }

  it('merges a backlog into larger exports up to merge_max_bytes, losing nothing', async () => {
    const { exporter, clock } = await make({ num_consumers: 1 });
    await bed.sink.stop();
    const sent = batches(30);
    for (const b of sent) await exporter.consume(b);
    await clock.timeoutsSet(1);
    await bed.sink.restart();
    clock.advance(1000);
    await bed.sink.waitFor(150);
    // The first batch was being retried; the 29 behind it went as one request.
    expect(bed.sink.accepted().map((r) => r.items)).toEqual([5, 145]);
    expect(sorted(bed.sink.spanIds())).toEqual(sorted(sent.flatMap(spanIdsOf)));
  });

  it('caps merged exports at merge_max_bytes', async () => {
    const sent = batches(12);
    const size = sent[0]!.bytes.length;
    const { exporter, clock } = await make({ num_consumers: 1, merge_max_bytes: size * 4 + 10 });
    await bed.sink.stop();
    for (const b of sent) await exporter.consume(b);
    await clock.timeoutsSet(1);
    await bed.sink.restart();
    clock.advance(1000);
    await bed.sink.waitFor(60);
    expect(bed.sink.accepted().map((r) => r.items)).toEqual([5, 20, 20, 15]);
  });

  it('sends each batch on its own when a merged export is rejected permanently', async () => {
    const { exporter, h, clock } = await make({ num_consumers: 1 });
    await bed.sink.stop();
    const sent = batches(5, 2);
    for (const b of sent) await exporter.consume(b);
    await clock.timeoutsSet(1);
    await bed.sink.restart();
    bed.sink.answerNext(1, {}).answerNext(1, { http: 413, message: 'request too large' });
    clock.advance(1000);
    await bed.sink.waitFor(10);
    expect(bed.sink.requests.map((r) => [r.items, r.accepted])).toEqual([
      [2, true],
      [8, false],
      [2, true],
      [2, true],
      [2, true],
      [2, true],
    ]);
    expect(sorted(bed.sink.spanIds())).toEqual(sorted(sent.flatMap(spanIdsOf)));
    expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(0);
  });

  it('drops and counts a batch once retries run out, logging it once', async () => {
    const { exporter, h, clock } = await make({ num_consumers: 1 }, 'http', {
      retry_on_failure: { ...TEST_RETRY, max_elapsed_time: '1500ms' },
    });
    bed.sink.answerAll({ http: 503, message: 'overloaded' });
    await exporter.consume(traceBatch(3));
    await clock.timeoutsSet(1);
    clock.advance(1000);
    await clock.timeoutsSet(2);
    expect(clock.delays).toEqual([1000, 500]);
    clock.advance(500);
    await bed.sink.waitForRequests(3);
    await exporter.consume(traceBatch(2));
    await bed.sink.waitForRequests(4);
    await clock.timeoutsSet(3);
    clock.advance(1000);
    await clock.timeoutsSet(4);
    clock.advance(500);
    await bed.sink.waitForRequests(6);
    await exporter.shutdown();
    expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(5);
    expect(await h.metric('otelcol_exporter_queue_size', { data_type: 'traces' })).toBe(0);
    expect(h.logged('after retrying for max_elapsed_time')).toHaveLength(1);
  });

  it('refuses data before start and after shutdown', async () => {
    const { exporter } = bed.create(otlpHttpExporterFactory, 'otlphttp/jaeger', {
      endpoint: bed.sink.httpEndpoint,
    });
    await expect(exporter.consume(traceBatch(1))).rejects.toThrow('is not started');
    await exporter.start(HOST);
    await exporter.shutdown();
    const err = await exporter.consume(traceBatch(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('is shutting down');
  });
});

describe('shutdown', () => {
  it('drains the queue: waits are cut short and every queued batch is sent', async () => {
    const { exporter, h, clock } = await make({ num_consumers: 2 });
    await bed.sink.stop();
    const sent = batches(8);
    for (const b of sent) await exporter.consume(b);
    await clock.timeoutsSet(2);
    await bed.sink.restart();
    await exporter.shutdown();
    expect(sorted(bed.sink.spanIds())).toEqual(sorted(sent.flatMap(spanIdsOf)));
    expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(0);
    expect(h.logged('dropped')).toEqual([]);
  });

  it('in memory: what cannot be sent is dropped, counted and logged once', async () => {
    const { exporter, h, clock } = await make({ num_consumers: 2 });
    await bed.sink.stop();
    for (const b of batches(6)) await exporter.consume(b);
    await clock.timeoutsSet(2);
    await exporter.shutdown();
    expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(30);
    const logs = h.logged('left in the in-memory sending queue at shutdown');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.msg).toContain('dropped 6 batches (30 spans)');
  });

  it('persistent: what cannot be sent stays on disk and is delivered by the next start', async () => {
    const storage = tempDir();
    const first = await make({ num_consumers: 2, storage });
    await bed.sink.stop();
    const sent = batches(6);
    for (const b of sent) await first.exporter.consume(b);
    await first.clock.timeoutsSet(2);
    await first.exporter.shutdown();
    expect(first.h.logged('kept 6 batches (30 spans) in the persistent queue')).toHaveLength(1);
    expect(await first.h.metric('otelcol_exporter_send_failed_spans_total')).toBe(0);

    await bed.sink.restart();
    const second = await make({ num_consumers: 2, storage });
    await bed.sink.waitFor(30);
    expect(sorted(bed.sink.spanIds())).toEqual(sorted(sent.flatMap(spanIdsOf)));
    expect(second.h.logged('replaying batches kept in the persistent queue')).toHaveLength(1);
    await second.exporter.shutdown();
    expect(second.h.logged('for the next start')).toEqual([]);
  });

  it('without a queue, waits in progress are cut short and get one last attempt', async () => {
    const { exporter, clock } = await make({ enabled: false });
    bed.sink.answerNext(1, { http: 503 });
    const done = exporter.consume(traceBatch(2));
    await clock.timeoutsSet(1);
    await exporter.shutdown();
    await done;
    expect(bed.sink.items()).toBe(2);
  });
});
