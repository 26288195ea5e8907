import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/component/errors.js';
import type { Signal } from '../../../src/component/consumer.js';
import { otlpExporterFactory } from '../../../src/exporters/otlp/factory.js';
import type { SinkAnswer } from '../../helpers/otlp-sink.js';
import { logsBatch, metricsBatch, traceBatch } from '../batches.js';
import {
  expectDroppedPermanently,
  expectFarTimeoutWaited,
  expectPartialSuccessCounted,
  expectRecoveryFromRefused,
  expectRetriedAfter,
} from '../answer-checks.js';
import { ERROR, HOST, TEST_RETRY, useTestbed, type Made } from '../harness.js';

const bed = useTestbed();

async function make(
  settings: Record<string, unknown> = {},
  signal: Signal = 'traces',
): Promise<Made> {
  const made = bed.create(
    otlpExporterFactory,
    'otlp/jaeger',
    {
      endpoint: bed.sink.grpcEndpoint,
      tls: { insecure: true },
      timeout: '2s',
      retry_on_failure: TEST_RETRY,
      sending_queue: { enabled: false },
      ...settings,
    },
    signal,
  );
  await made.exporter.start(HOST);
  return made;
}

describe('otlp exporter: what it does with each gRPC answer', () => {
  const retried: Array<[string, SinkAnswer, number]> = [
    [
      'UNAVAILABLE with RetryInfo 7s: waits the hint',
      { grpc: status.UNAVAILABLE, retryDelayMs: 7000 },
      7000,
    ],
    [
      'RESOURCE_EXHAUSTED with RetryInfo 2.5s: waits the hint',
      { grpc: status.RESOURCE_EXHAUSTED, retryDelayMs: 2500 },
      2500,
    ],
    ['UNAVAILABLE without a hint: backoff', { grpc: status.UNAVAILABLE }, 1000],
    ['CANCELLED', { grpc: status.CANCELLED }, 1000],
    ['DEADLINE_EXCEEDED', { grpc: status.DEADLINE_EXCEEDED }, 1000],
    ['ABORTED', { grpc: status.ABORTED }, 1000],
    ['OUT_OF_RANGE', { grpc: status.OUT_OF_RANGE }, 1000],
    ['DATA_LOSS', { grpc: status.DATA_LOSS }, 1000],
  ];

  it.each(retried)('%s, then delivers', async (_name, answer, wait) => {
    await expectRetriedAfter(await make(), bed.sink, answer, wait);
  });

  const dropped: Array<[string, SinkAnswer]> = [
    ['RESOURCE_EXHAUSTED without RetryInfo', { grpc: status.RESOURCE_EXHAUSTED }],
    ['INVALID_ARGUMENT', { grpc: status.INVALID_ARGUMENT, message: 'span name too long' }],
    ['PERMISSION_DENIED', { grpc: status.PERMISSION_DENIED }],
    ['UNAUTHENTICATED', { grpc: status.UNAUTHENTICATED }],
    ['UNIMPLEMENTED', { grpc: status.UNIMPLEMENTED }],
    ['INTERNAL', { grpc: status.INTERNAL }],
    ['UNKNOWN', { grpc: status.UNKNOWN }],
  ];

  it.each(dropped)('%s: permanent, dropped and counted, logged once', async (name, answer) => {
    await expectDroppedPermanently(await make(), bed.sink, answer, name.split(' ')[0]!);
  });

  it('an answer slower than the timeout is retried (DEADLINE_EXCEEDED)', async () => {
    const { exporter, clock } = await make({ timeout: '150ms' });
    bed.sink.answerNext(1, { delayMs: 2_000 });
    const done = exporter.consume(traceBatch(1));
    await clock.timeoutsSet(1);
    expect(clock.delays).toEqual([1000]);
    clock.advance(1000);
    await done;
    expect(bed.sink.requests).toHaveLength(2);
    expect(bed.sink.items()).toBe(2); // the slow one was received too: at-least-once
  });

  it('partial_success is a success; the rejected items are counted and logged once', async () => {
    await expectPartialSuccessCounted(await make(), bed.sink);
  });

  it('connection refused: warns once, retries, and says when it recovered', async () => {
    await expectRecoveryFromRefused(await make(), bed.sink, bed.sink.grpcEndpoint);
  });

  it('without a queue, a failure that outlasts max_elapsed_time reaches the caller as UNAVAILABLE', async () => {
    const { exporter, h, clock } = await make({
      retry_on_failure: { ...TEST_RETRY, max_elapsed_time: '2500ms' },
    });
    bed.sink.answerAll({ grpc: status.UNAVAILABLE, message: 'jaeger is restarting' });
    const done = exporter.consume(traceBatch(4)).catch((e: unknown) => e);
    // Waits 1s, 2s (cut to the 1.5s left before the deadline), then gives up.
    await clock.timeoutsSet(1);
    clock.advance(1000);
    await clock.timeoutsSet(2);
    clock.advance(1500);
    const err = await done;
    expect(clock.delays).toEqual([1000, 1500]);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('jaeger is restarting');
    expect(bed.sink.requests).toHaveLength(3);
    expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(4);
    expect(h.logged('after retrying for max_elapsed_time')).toHaveLength(1);
  });

  it('takes a timeout past what a timer can wait (1000h) as a far deadline, in a valid grpc-timeout', async () => {
    // Also: it was sent as grpc-timeout "3600000000m" (8 digits at most), read by grpc-js as 0.
    await expectFarTimeoutWaited(await make({ timeout: '1000h' }), bed.sink);
  });

  it('sends headers as metadata, to the right service for each signal', async () => {
    const cases = [
      ['traces', traceBatch(2)],
      ['metrics', metricsBatch(3)],
      ['logs', logsBatch(4)],
    ] as const;
    for (const [signal, batch] of cases) {
      const { exporter } = await make({ headers: { 'X-Tenant': 'blue' } }, signal);
      await exporter.consume(batch);
    }
    expect(bed.sink.requests.map((r) => [r.signal, r.items, r.headers['x-tenant']])).toEqual([
      ['traces', 2, 'blue'],
      ['metrics', 3, 'blue'],
      ['logs', 4, 'blue'],
    ]);
  });

  it('compresses with gzip unless compression is none', async () => {
    const big = traceBatch([{ attributes: { 'db.statement': 'SELECT 1; '.repeat(20_000) } }]);
    const proxy = await byteCountingProxy(Number(bed.sink.grpcEndpoint.split(':')[1]));
    try {
      for (const compression of ['gzip', 'none']) {
        const before = proxy.bytes();
        const { exporter } = await make({ endpoint: `127.0.0.1:${proxy.port}`, compression });
        await exporter.consume(big);
        proxy.record(compression, proxy.bytes() - before);
      }
    } finally {
      await proxy.close();
    }
    expect(bed.sink.accepted().map((r) => r.bytes.equals(Buffer.from(big.bytes)))).toEqual([
      true,
      true,
    ]);
    expect(big.bytes.length).toBeGreaterThan(200_000);
    expect(proxy.recorded['none']).toBeGreaterThan(big.bytes.length);
    expect(proxy.recorded['gzip']).toBeLessThan(big.bytes.length / 20);
  });

  it('takes its endpoint as host:port, http://host:port or the gRPC target dns:///host:port', async () => {
    for (const endpoint of [
      bed.sink.grpcEndpoint,
      `http://${bed.sink.grpcEndpoint}`,
      `dns:///${bed.sink.grpcEndpoint}`,
    ]) {
      const { exporter } = await make({ endpoint });
      await exporter.consume(traceBatch(1));
    }
    expect(bed.sink.accepted().map((r) => r.items)).toEqual([1, 1, 1]);
  });

  it('shuts down without waiting on a downstream that accepted the connection and never answers', async () => {
    // Before: the HTTP/2 close waited for the downstream's side of it, so SIGTERM took until the
    // downstream dropped the connection (58 s in a run), whatever `timeout` said.
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      held.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const { exporter } = await make({
        endpoint: `127.0.0.1:${port}`,
        timeout: '200ms',
        retry_on_failure: { enabled: false },
      });
      await expect(exporter.consume(traceBatch(1))).rejects.toThrow(/DEADLINE_EXCEEDED/);
      expect(held).toHaveLength(1);
      // Resolves with the connection still held open by the downstream (before: never, until the
      // downstream let go of it).
      await exporter.shutdown();
      expect(held[0]!.destroyed).toBe(false);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('starts while the downstream is unreachable', async () => {
    await bed.sink.stop();
    const { exporter, h } = await make({ sending_queue: { enabled: true } });
    await exporter.consume(traceBatch(1));
    expect(h.lines.filter((l) => l.level >= ERROR)).toEqual([]);
  });
});

/** A TCP proxy that counts the bytes the client sends (what goes over the wire). */
async function byteCountingProxy(targetPort: number) {
  let total = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => (total += d.length));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const recorded: Record<string, number> = {};
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => total,
    recorded,
    record: (k: string, n: number) => (recorded[k] = n),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
