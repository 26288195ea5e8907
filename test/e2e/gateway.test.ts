import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hexAt, indexSpans } from '../../src/otlp/trace-index.js';
import { detectorOf } from '../detectors/helpers/sidecar.js';
import { traceRequest } from '../detectors/helpers/traces.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { PG_PASSWORD } from '../helpers/postgres.js';
import { ServiceRouter } from '../helpers/service-router.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { usePgCluster } from '../helpers/use-postgres.js';

/**
 * A gateway tier: hourglass instances behind a load balancer that routes by service, as the
 * Collector's `loadbalancing` exporter with `routing_key: service` does (docs/gateway.md). The
 * Collector cannot be installed here; `ServiceRouter` stands in for it, speaking OTLP/HTTP and
 * hashing service names onto a ring of the instances as the exporter does. The instances are real
 * sidecars sharing a real PostgreSQL database.
 */
const pg = usePgCluster();
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Twelve services, chosen once the instances' addresses are known (the ring hashes them, and
 * their ports are random): at least one each stays on a and on b when c joins, and one moves to c.
 */
function servicesFor(a: string, b: string, c: string): string[] {
  const owner = (endpoints: string[], s: string) => ServiceRouter.endpointOf(endpoints, s);
  const wanted = [
    (s: string) => owner([a, b], s) === a && owner([a, b, c], s) === a,
    (s: string) => owner([a, b], s) === b && owner([a, b, c], s) === b,
    (s: string) => owner([a, b, c], s) === c,
  ];
  const chosen: string[] = [];
  for (let i = 0; chosen.length < 12 && i < 10_000; i++) {
    const s = `svc-${i}`;
    const need = wanted.findIndex((w) => w(s));
    if (need >= 0) wanted.splice(need, 1);
    if (need >= 0 || chosen.length < 12 - wanted.length) chosen.push(s);
  }
  if (wanted.length > 0) throw new Error('no services for every part of the ring');
  return chosen;
}

async function instance(url: string, name: string, sink: OtlpSink): Promise<TestSidecar> {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-gateway-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const password = join(dir, 'pw');
  writeFileSync(password, PG_PASSWORD);
  const sidecar = await startTestSidecar(`
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
processors:
  anomaly:
    storage: ${url}
    postgres: { password_file: ${password}, instance: ${name} }
    flush_interval: 200ms
    min_samples: 20
    recalculation: { enabled: false }
exporters:
  otlphttp: { endpoint: ${sink.httpEndpoint}, compression: none }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [anomaly], exporters: [otlphttp] }
  telemetry: { metrics: { level: none } }
`);
  cleanups.push(() => sidecar.shutdown()); // runs once: a second call does nothing
  return sidecar;
}

async function post(router: ServiceRouter, body: Uint8Array): Promise<number> {
  const r = await fetch(`${router.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
  });
  await r.arrayBuffer();
  return r.status;
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('hourglass behind a load balancer routing by service', () => {
  it('learns each service on one instance; services moved by adding or removing an instance are scored at once from the shared baselines', async () => {
    const sink = await OtlpSink.start();
    cleanups.push(() => sink.close());
    const database = pg.database();
    const url = pg.cluster().url(database);
    const a = await instance(url, 'a', sink);
    const b = await instance(url, 'b', sink);
    const c = await instance(url, 'c', sink); // joins the router's ring later
    const SERVICES = servicesFor(a.http, b.http, c.http);
    const names = new Map([
      [a.http, 'a'],
      [b.http, 'b'],
    ]);
    const router = await ServiceRouter.start([a.http, b.http]);
    cleanups.push(() => router.close());

    const base = Date.now() - 120_000;
    let sent = 0;
    for (let r = 0; r < 10; r++) {
      const spans = SERVICES.flatMap((service, s) =>
        Array.from({ length: 5 }, (_x, j) => ({
          service,
          name: 'GET /item',
          startMs: base + (r * 5 + j) * 100,
          durationMs: 20 + ((r * 5 + j + s) % 9),
        })),
      );
      sent += spans.length;
      expect(await post(router, traceRequest(spans))).toBe(200);
    }
    const stored = () =>
      Number(pg.cluster().psql('SELECT COALESCE(SUM(count), 0) FROM hg_daily', database));
    await until(() => stored() === sent, 'every span learned');
    // Every instance follows the others at its next flush (200 ms here). A flush of each, now,
    // stands for that wait: one that began before the last write committed read only part of it,
    // and under load its next one may come after the moved services' first spans (a flake CI saw).
    for (const t of [a, b, c]) await detectorOf(t).flushNow();
    // Each service was learned by exactly one instance: the one its ring position names.
    const learnedBy = pg
      .cluster()
      .psql(
        "SELECT k.service, string_agg(DISTINCT d.instance, ',') FROM hg_daily d JOIN hg_keys k ON k.id = d.key_id GROUP BY k.service ORDER BY k.service",
        database,
      )
      .split('\n')
      .map((l) => l.split('|'));
    expect(learnedBy).toHaveLength(SERVICES.length);
    for (const [service, instances] of learnedBy) {
      expect(instances).toBe(names.get(router.endpointOf(service!)));
    }
    expect(new Set(learnedBy.map(([, i]) => i))).toEqual(new Set(['a', 'b']));

    // A third instance joins: the services whose ring segment it takes move to it.
    const before = new Map(SERVICES.map((s) => [s, router.endpointOf(s)]));
    router.setEndpoints([a.http, b.http, c.http]);
    const moved = SERVICES.filter((s) => router.endpointOf(s) === c.http);
    expect(moved.length).toBeGreaterThan(0);
    expect(
      SERVICES.filter((s) => !moved.includes(s) && router.endpointOf(s) !== before.get(s)),
    ).toEqual([]);
    // Its first span of a moved service is scored against the fleet's baseline of that service.
    const slowTagged = async (service: string) => {
      const body = traceRequest([
        { service, name: 'GET /item', startMs: Date.now(), durationMs: 2000 },
      ]);
      const id = hexAt(body, indexSpans(body).spans[0]!.spanIdAt, 8);
      expect(await post(router, body)).toBe(200);
      await sink.waitForSpans(new Set([id]));
      return sink.spans().find((s) => s.spanId === id)!.attributes;
    };
    const onC = await slowTagged(moved[0]!);
    expect(onC['anomaly.severity']).toMatch(/^SEV[1-5]$/);
    expect(Number(onC['anomaly.baseline.samples'])).toBe(50);

    // An instance leaves: its services go to the others, which already share their baselines.
    // The ring follows the instances' ports (random), so the one that leaves is whichever of the
    // first two now owns more services (c may have taken every service of one of them).
    const owned = (t: TestSidecar) => SERVICES.filter((s) => router.endpointOf(s) === t.http);
    const [leaving, staying] = owned(b).length >= owned(a).length ? [b, a] : [a, b];
    const fromLeaving = owned(leaving);
    expect(fromLeaving.length).toBeGreaterThan(0);
    router.setEndpoints([staying.http, c.http]);
    await leaving.shutdown();
    const moved2 = await slowTagged(fromLeaving[0]!);
    expect(moved2['anomaly.severity']).toMatch(/^SEV[1-5]$/);
    expect(Number(moved2['anomaly.baseline.samples'])).toBe(50);
  }, 120_000);
});
