import http from 'node:http';
import net from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import { createDefaultConfig } from '../../src/admin/config.js';
import type { ServerAuthenticator } from '../../src/component/auth.js';
import type { Consumer } from '../../src/component/consumer.js';
import type { ExtensionFactory } from '../../src/component/factory.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startTestSidecar } from '../detectors/helpers/sidecar.js';
import {
  cartAtNine,
  cartDayBefore,
  MONDAY,
  traceRequest,
  type SpanSpec,
} from '../detectors/helpers/traces.js';
import { useSidecarFixture } from '../helpers/sidecar-fixture.js';

const H = 3_600_000;

/** A real authenticator extension: accepts one bearer token. */
const tokenAuth: ExtensionFactory<{ token: string }> = {
  kind: 'extension',
  type: 'testtoken',
  configSchema: z.strictObject({ token: z.string() }),
  create: (_s, config): ServerAuthenticator => ({
    start: async () => undefined,
    shutdown: async () => undefined,
    authenticate: (authorization) => authorization === `Bearer ${config.token}`,
  }),
};

async function send(entry: Consumer, list: SpanSpec[]): Promise<void> {
  await entry.consume({ signal: 'traces', bytes: traceRequest(list), items: list.length });
}

describe('admin API', () => {
  const f = useSidecarFixture('hourglass-admin-');
  let clock: FakeClock;
  let base: string;
  let entry: Consumer;

  beforeEach(() => {
    clock = new FakeClock(MONDAY + 12 * H);
  });

  async function start(
    admin: Record<string, unknown> = {},
    extensions: Record<string, unknown> = {},
  ) {
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db') },
      factories: [f.capture.factory, tokenAuth],
      extensions: {
        ...extensions,
        admin: { endpoint: '127.0.0.1:0', jaeger_ui_url: 'http://jaeger:16686/', ...admin },
      },
    });
    base = `http://${f.sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    entry = f.sidecar.service.pipelineEntries.get('traces')!;
  }

  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(base + path, init);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('binds to localhost unless configured otherwise', () => {
    expect(createDefaultConfig().endpoint).toBe('localhost:8890');
  });

  it('serves the 168-bucket baseline profile of a key, and the list of keys', async () => {
    await start();
    await send(entry, cartAtNine(40));
    const { status, body } = await get('/api/v1/baselines?service=checkout&operation=GET%20/cart');
    expect(status).toBe(200);
    expect(body.baselines).toHaveLength(1);
    const p = body.baselines[0];
    expect(p).toMatchObject({
      processor: 'anomaly',
      service: 'checkout',
      operation: 'GET /cart',
      kind: 'server',
      timezone: 'UTC',
      min_samples: 30,
    });
    expect(p.buckets).toHaveLength(168);
    expect(p.buckets[9]).toMatchObject({
      scope: 'dow_hour',
      window: 'Mon 09:00-10:00 UTC',
      day_of_week: 'Mon',
      hour: 9,
      samples: 40,
      served_by: { scope: 'dow_hour', window: 'Mon 09:00-10:00 UTC' },
      thresholds: { source: 'fixed', sigma: { SEV5: 3, SEV4: 4, SEV3: 5, SEV2: 7, SEV1: 10 } },
    });
    expect(p.buckets[9].mean_ms).toBeCloseTo(99.525, 3);
    expect(p.buckets[9].thresholds.ms.SEV1).toBeCloseTo(99.525 + 10 * p.buckets[9].stddev_ms, 2);
    // Tuesday 09:00 has no data of its own: the hour of day serves it.
    expect(p.buckets[24 + 9]).toMatchObject({
      samples: 0,
      mean_ms: null,
      served_by: { scope: 'hour' },
    });
    expect(p.hours[9].samples).toBe(40);
    expect(p.global.samples).toBe(40);
    // After a recalculation the percentiles of the sketch appear.
    clock.advance(10_000);
    await get('/api/v1/recalculate', { method: 'POST' });
    const again = (await get('/api/v1/baselines?service=checkout')).body.baselines[0];
    expect(again.buckets[9].p50_ms).toBeCloseTo(99, -1);
    expect(again.thresholds_computed_at).toBe(new Date(clock.now()).toISOString());

    const keys = await get('/api/v1/baselines');
    expect(keys.body).toEqual({
      keys: [
        {
          processor: 'anomaly',
          service: 'checkout',
          operation: 'GET /cart',
          kind: 'server',
          samples: 40,
          has_baseline: true,
        },
      ],
    });
    expect((await get('/api/v1/baselines?service=nope')).status).toBe(404);
  });

  it('serves the anomaly history with filters and Jaeger links', async () => {
    await start();
    await send(entry, [...cartAtNine(40), ...cartDayBefore()]);
    await send(entry, [
      {
        name: 'GET /cart',
        startMs: MONDAY + 9 * H + 1000,
        durationMs: 2000,
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
      },
      { name: 'GET /cart', startMs: MONDAY + 9 * H + 2000, durationMs: 135 }, // SEV3 with the fixed thresholds
      { service: 'shop', name: 'GET /cart', startMs: MONDAY + 9 * H, durationMs: 5 },
    ]);
    clock.advance(10_000); // the first is flushed to SQLite, the next stays in memory
    // Against Monday's baseline, which learned the 2 s span (SEV2 at 3 s, SEV1 at 30 s).
    await send(entry, [{ name: 'GET /cart', startMs: MONDAY + 10 * H, durationMs: 30_000 }]);

    const all = await get('/api/v1/anomalies');
    expect(all.status).toBe(200);
    expect(all.body.anomalies.map((a: { severity: string }) => a.severity)).toEqual([
      'SEV1',
      'SEV3',
      'SEV1',
    ]);
    const first = all.body.anomalies.find(
      (a: { trace_id: string }) => a.trace_id === 'a'.repeat(32),
    );
    expect(first).toMatchObject({
      id: `${'a'.repeat(32)}-${'b'.repeat(16)}`,
      span_id: 'b'.repeat(16),
      service: 'checkout',
      operation: 'GET /cart',
      kind: 'server',
      start: new Date(MONDAY + 9 * H + 1000).toISOString(),
      duration_ms: 2000,
      severity_number: 1,
      severity_label: 'critical',
      detector: 'latency',
      reason: 'slow_span',
      baseline: { samples: 40, scope: 'dow_hour', window: 'Mon 09:00-10:00 UTC' },
      summary: null,
      jaeger_url: `http://jaeger:16686/trace/${'a'.repeat(32)}?uiFind=${'b'.repeat(16)}`,
    });
    const severe = await get('/api/v1/anomalies?min_severity=SEV2');
    expect(severe.body.anomalies).toHaveLength(2);
    const since = await get(`/api/v1/anomalies?since=${new Date(MONDAY + 9.5 * H).toISOString()}`);
    expect(since.body.anomalies.map((a: { duration_ms: number }) => a.duration_ms)).toEqual([
      30_000,
    ]);
    expect((await get('/api/v1/anomalies?limit=1')).body.anomalies).toHaveLength(1);
    expect((await get('/api/v1/anomalies?service=shop')).body.anomalies).toEqual([]);
  });

  it('answers bad parameters with 400, unknown paths with 404 and wrong methods with 405', async () => {
    await start();
    expect(await get('/api/v1/anomalies?min_severity=SEV9')).toEqual({
      status: 400,
      body: { error: 'min_severity: "SEV9" is not a severity; use SEV1 .. SEV5' },
    });
    expect((await get('/api/v1/anomalies?since=yesterday')).body.error).toMatch(
      /^since: "yesterday" is not a time/,
    );
    expect((await get('/api/v1/anomalies?limit=0')).status).toBe(400);
    // Every kind a key can have is named, `unspecified` (kind 0, as Nezha's spans have) included.
    expect(await get('/api/v1/baselines?service=a&kind=sideways')).toEqual({
      status: 400,
      body: {
        error:
          'kind: "sideways" is not a span kind; use unspecified, internal, server, client, producer or consumer',
      },
    });
    // ...taken: the answer is about the service (no key), not the kind.
    expect((await get('/api/v1/baselines?service=a&kind=unspecified')).status).toBe(404);
    expect((await get('/api/v1/nothing')).status).toBe(404);
    const wrong = await fetch(`${base}/api/v1/recalculate`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await get('/api/v1/anomalies?processor=anomaly/other')).status).toBe(404);
  });

  it('answers a parameter the endpoint does not take with 400 naming it, instead of ignoring it', async () => {
    await start();
    await send(entry, [...cartAtNine(40), ...cartDayBefore()]);
    // Was 200 with every severity: `severity` is not a filter, `min_severity` is.
    expect(await get('/api/v1/anomalies?severity=SEV1')).toEqual({
      status: 400,
      body: {
        error:
          'unknown parameter "severity"; /api/v1/anomalies takes processor, service, operation, min_severity, since, limit',
      },
    });
    expect(await get('/api/v1/incidents?servce=shop')).toEqual({
      status: 400,
      body: {
        error:
          'unknown parameter "servce"; did you mean "service"?; /api/v1/incidents takes processor, status, service, min_severity, since, limit',
      },
    });
    expect((await get('/api/v1/health?limit=5')).body.error).toBe(
      'unknown parameter "limit"; /api/v1/health takes processor',
    );
    // The console's cache buster is taken everywhere.
    expect((await get('/api/v1/baselines?service=checkout&_=3')).status).toBe(200);
  });

  it('streams new anomalies as server-sent events', async () => {
    await start();
    await send(entry, [...cartAtNine(40), ...cartDayBefore()]);
    const events: string[] = [];
    const req = http.get(`${base}/api/v1/anomalies/stream?min_severity=SEV2`);
    const response = await new Promise<http.IncomingMessage>((resolve) =>
      req.once('response', resolve),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const received = new Promise<void>((resolve) => {
      let buffered = '';
      response.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          events.push(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
          if (events.some((e) => e.includes('event: anomaly'))) resolve();
        }
      });
    });
    // Wait for the subscription (the first comment) before tagging.
    await new Promise<void>((resolve) => response.once('data', () => resolve()));
    await send(entry, [
      { name: 'GET /cart', startMs: MONDAY + 9 * H, durationMs: 135 }, // SEV3: filtered out
      {
        name: 'GET /cart',
        startMs: MONDAY + 9 * H,
        durationMs: 2500,
        spanId: 'c'.repeat(16),
        traceId: 'd'.repeat(32),
      },
    ]);
    clock.advance(15_000); // a heartbeat
    await received;
    req.destroy();
    const anomaly = events.find((e) => e.includes('event: anomaly'))!;
    const lines = anomaly.split('\n');
    // Its id is the stream's place, for Last-Event-ID (stream-resume.test.ts); the data has its own.
    expect(lines[0]).toMatch(/^id: anomaly=\d+$/);
    expect(lines[1]).toBe('event: anomaly');
    const data = JSON.parse(lines[2]!.slice('data: '.length)) as Record<string, unknown>;
    expect(data).toMatchObject({
      id: `${'d'.repeat(32)}-${'c'.repeat(16)}`,
      severity: 'SEV1',
      duration_ms: 2500,
      processor: 'anomaly',
    });
    expect(events.filter((e) => e.includes('event: anomaly'))).toHaveLength(1);
  });

  it('serves at most max_stream_clients event streams, and frees a slot when one leaves', async () => {
    await start({ max_stream_clients: 1 });
    const open = () =>
      new Promise<http.IncomingMessage>((resolve) =>
        http.get(`${base}/api/v1/anomalies/stream`, resolve),
      );
    const first = await open();
    expect(first.statusCode).toBe(200);
    const second = await open();
    expect(second.statusCode).toBe(503);
    expect(second.headers['retry-after']).toBe('5');
    second.resume();
    first.destroy();
    // The server notices the closed connection; then a new client gets the slot.
    for (;;) {
      const third = await open();
      if (third.statusCode === 200) {
        third.destroy();
        break;
      }
      third.resume();
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it('recalculates on POST and returns what changed', async () => {
    await start();
    await send(
      entry,
      Array.from({ length: 300 }, (_, i) => ({
        name: 'GET /cart',
        startMs: MONDAY + 9 * H + i * 1000,
        durationMs: 80 + (i % 41),
      })),
    );
    const { status, body } = await get('/api/v1/recalculate', { method: 'POST' });
    expect(status).toBe(200);
    expect(body.results).toHaveLength(1);
    expect(body.results[0]).toMatchObject({
      processor: 'anomaly',
      keys: 1,
      slots_learned: 4,
      changed: 4,
    });
    expect(body.results[0].changes[0].after.SEV1).toBeGreaterThan(
      body.results[0].changes[0].after.SEV5,
    );
  });

  it('requires credentials when an authenticator is configured', async () => {
    await start({ auth: { authenticator: 'testtoken' } }, { testtoken: { token: 's3cret' } });
    const denied = await fetch(`${base}/api/v1/anomalies`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer');
    const ok = await get('/api/v1/anomalies', { headers: { Authorization: 'Bearer s3cret' } });
    expect(ok).toEqual({ status: 200, body: { anomalies: [] } });
  });

  it('checks credentials before telling which paths and methods exist', async () => {
    await start({ auth: { authenticator: 'testtoken' } }, { testtoken: { token: 's3cret' } });
    expect((await fetch(`${base}/api/v1/nothing`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/anomalies`, { method: 'DELETE' })).status).toBe(401);
    const auth = { Authorization: 'Bearer s3cret' };
    expect((await fetch(`${base}/api/v1/nothing`, { headers: auth })).status).toBe(404);
    const wrong = await fetch(`${base}/api/v1/anomalies`, { method: 'DELETE', headers: auth });
    expect(wrong.status).toBe(405);
  });

  it('closes the socket and frees the slot of an event-stream client that half-closes', async () => {
    await start({ max_stream_clients: 1 });
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    const headers = new Promise<string>((resolve) =>
      socket.once('data', (d) => resolve(String(d))),
    );
    socket.write(`GET /api/v1/anomalies/stream HTTP/1.1\r\nHost: admin\r\n\r\n`);
    expect(await headers).toMatch(/^HTTP\/1\.1 200 /);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.end(); // FIN: the client is gone, its socket half-open on the server until closed
    await closed;
    const next = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${base}/api/v1/anomalies/stream`, resolve),
    );
    expect(next.statusCode).toBe(200);
    next.destroy();
  });
});
