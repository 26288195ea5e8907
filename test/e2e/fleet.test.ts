import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hexAt, indexSpans } from '../../src/otlp/trace-index.js';
import { traceRequest, type SpanSpec } from '../detectors/helpers/traces.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { freeAddresses } from '../helpers/ports.js';
import { PG_PASSWORD } from '../helpers/postgres.js';
import { usePgCluster } from '../helpers/use-postgres.js';
import { assertBuilt, SidecarProcess } from '../helpers/process.js';
import { checkoutTrace } from '../detectors/anomaly/incidents/traffic.js';

/**
 * Built hourglass processes (`node dist/cli.js run`) sharing one real PostgreSQL database
 * (Debian's postgresql 15, a throwaway cluster), fed over OTLP/HTTP, read through the admin API.
 */
beforeAll(() => assertBuilt());
const pg = usePgCluster();

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Instance {
  proc: SidecarProcess;
  http: string;
  admin: string;
}

/** Starts `hourglass run` with an anomaly processor on `storage`, exporting to `sink`. */
async function start(storage: string, sink: OtlpSink, name: string): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-fleet-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const [http, admin, telemetry] = await freeAddresses(3);
  const passwordFile = join(dir, 'pg-password');
  writeFileSync(passwordFile, `${PG_PASSWORD}\n`);
  const file = join(dir, 'otel-config.yaml');
  writeFileSync(
    file,
    `
extensions:
  admin: { endpoint: ${admin} }
receivers:
  otlp:
    protocols:
      http: { endpoint: ${http} }
processors:
  anomaly:
    storage: ${storage}
    postgres: { password_file: ${passwordFile}, instance: ${name}, timeout: 1s }
    flush_interval: 200ms
    min_samples: 20
    recalculation: { enabled: false }
  batch: { timeout: 50ms }
exporters:
  otlphttp: { endpoint: ${sink.httpEndpoint}, compression: none }
service:
  extensions: [admin]
  pipelines:
    traces: { receivers: [otlp], processors: [anomaly, batch], exporters: [otlphttp] }
  telemetry: { metrics: { address: ${telemetry} } }
`,
  );
  const proc = new SidecarProcess(['run', '--config', file]);
  cleanups.push(() => {
    if (proc.running) proc.kill('SIGKILL');
  });
  await proc.waitForLog((l) => l.msg === 'hourglass is running', 30_000);
  return { proc, http: http!, admin: admin! };
}

async function post(to: Instance, body: Uint8Array): Promise<number> {
  const r = await fetch(`http://${to.http}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
  });
  await r.arrayBuffer();
  return r.status;
}

interface SlotJson {
  samples: number;
  mean_ms: number | null;
  stddev_ms: number | null;
  p99_ms: number | null;
}
interface ProfileJson {
  operation: string;
  global: SlotJson;
  hours: SlotJson[];
  thresholds_computed_at: string | null;
}

async function baselines(of: Instance): Promise<ProfileJson[]> {
  const r = await fetch(`http://${of.admin}/api/v1/baselines?service=checkout`);
  if (r.status !== 200) return [];
  const body = (await r.json()) as { baselines: ProfileJson[] };
  return body.baselines.sort((a, b) => a.operation.localeCompare(b.operation));
}

/** Polls until `check` holds (real processes flush on their own timers). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const OPERATIONS = ['GET /cart', 'POST /pay'];

/** Request `i` of the traffic: 50 spans of two operations, durations varying deterministically. */
function request(i: number, base: number): SpanSpec[] {
  return Array.from({ length: 50 }, (_s, j) => {
    const n = i * 50 + j;
    return {
      name: OPERATIONS[n % 2]!,
      startMs: base + n * 10,
      durationMs: (n % 2 ? 80 : 20) + ((n * 7919) % 23) / 2,
    };
  });
}

function spanIds(body: Uint8Array): string[] {
  return indexSpans(body).spans.map((s) => hexAt(body, s.spanIdAt, 8));
}

describe('hourglass processes sharing baselines in PostgreSQL', () => {
  it('two processes given half the traffic each serve the baselines of one given all of it; a third started later tags its first span', async () => {
    const sink = await OtlpSink.start();
    cleanups.push(() => sink.close());
    const url = pg.cluster().url(pg.database());
    const a = await start(url, sink, 'a');
    const b = await start(url, sink, 'b');
    const one = await start(
      join(mkdtempSync(join(tmpdir(), 'hourglass-one-')), 'hg.db'),
      sink,
      'one',
    );

    const base = Date.now() - 60_000;
    const requests = 40;
    for (let i = 0; i < requests; i++) {
      const body = traceRequest(request(i, base));
      expect(await post(one, body)).toBe(200);
      expect(await post(i % 2 ? b : a, body)).toBe(200);
    }
    const perKey = (requests * 50) / OPERATIONS.length;
    const settled = async (x: Instance) => {
      const p = await baselines(x);
      return p.length === 2 && p.every((k) => k.global.samples === perKey);
    };
    await until(
      async () => (await settled(one)) && (await settled(a)) && (await settled(b)),
      'the fleet to learn everything',
    );
    const want = await baselines(one);
    for (const x of [a, b]) {
      const got = await baselines(x);
      for (let k = 0; k < want.length; k++) {
        for (const [g, w] of [
          [got[k]!.global, want[k]!.global],
          ...got[k]!.hours.map((h, i) => [h, want[k]!.hours[i]!]),
        ] as [SlotJson, SlotJson][]) {
          expect(g.samples).toBe(w.samples);
          if (w.mean_ms === null) continue;
          expect(g.mean_ms!).toBeCloseTo(w.mean_ms, 2);
          expect(g.stddev_ms!).toBeCloseTo(w.stddev_ms!, 2);
        }
      }
    }

    // Thresholds recalculated on one instance are the fleet's; a third instance starts with them.
    const recalc = await fetch(`http://${a.admin}/api/v1/recalculate`, { method: 'POST' });
    expect(recalc.status).toBe(200);
    await until(
      async () => (await baselines(b)).every((k) => k.thresholds_computed_at !== null),
      'b to install the thresholds',
    );
    const c = await start(url, sink, 'c');
    const slow = traceRequest([{ name: 'POST /pay', startMs: Date.now(), durationMs: 2000 }]);
    const [slowId] = spanIds(slow);
    expect(await post(c, slow)).toBe(200);
    await sink.waitForSpans(new Set([slowId!]));
    const delivered = sink.spans().find((s) => s.spanId === slowId)!;
    expect(delivered.attributes['anomaly.severity']).toMatch(/^SEV[1-5]$/);
    expect(Number(delivered.attributes['anomaly.baseline.samples'])).toBeGreaterThanOrEqual(20);

    // The fleet's history, from any instance.
    await until(async () => {
      const r = await fetch(`http://${b.admin}/api/v1/anomalies?limit=1000`);
      const body = (await r.json()) as { anomalies: { span_id: string }[] };
      return body.anomalies.some((x) => x.span_id === slowId);
    }, "the anomaly tagged by c in b's history");
    for (const x of [a, b, c]) {
      x.proc.kill('SIGTERM');
      expect(await x.proc.exited).toBe(0);
    }
  }, 180_000);

  it('loses no learning and no span when the database is killed and restarted under load', async () => {
    const sink = await OtlpSink.start();
    cleanups.push(() => sink.close());
    const database = pg.database();
    const a = await start(pg.cluster().url(database), sink, 'a');
    const base = Date.now() - 60_000;
    const sent = new Set<string>();
    const requests = 60;
    for (let i = 0; i < requests; i++) {
      if (i === 20) pg.cluster().stopServer('immediate');
      if (i === 45) pg.cluster().startServer();
      const body = traceRequest(request(i, base));
      for (const id of spanIds(body)) sent.add(id);
      expect(await post(a, body)).toBe(200);
      await new Promise((r) => setTimeout(r, 50)); // several flushes fail while it is down
    }
    await sink.waitForSpans(sent, 30_000);
    expect(sink.deliveredSpanIds().size).toBe(sent.size);
    const stored = () =>
      Number(pg.cluster().psql('SELECT COALESCE(SUM(count), 0) FROM hg_daily', database));
    await until(
      async () => stored() === sent.size,
      `all ${sent.size} samples in the database`,
      30_000,
    );
    expect(stored()).toBe(sent.size);
    const errors = a.proc.logs.filter(
      (l) => l.level === 'error' && /shared baseline database/.test(l.msg),
    );
    expect(errors).toHaveLength(1);
    expect(a.proc.logs.some((l) => l.msg === 'the shared baseline database is usable again')).toBe(
      true,
    );
    expect(a.proc.stderrText).not.toContain(PG_PASSWORD);
    a.proc.kill('SIGTERM');
    expect(await a.proc.exited).toBe(0);
  }, 180_000);

  it('a fault seen by two processes is one incident, listed alike by both admin APIs', async () => {
    const sink = await OtlpSink.start();
    cleanups.push(() => sink.close());
    const url = pg.cluster().url(pg.database());
    const a = await start(url, sink, 'a');
    const b = await start(url, sink, 'b');
    // An hour of normal checkout requests, half through each process.
    const now = Date.now();
    for (let r = 0; r < 20; r++) {
      const spans = Array.from({ length: 100 }, (_x, k) =>
        checkoutTrace(r * 100 + k + 1, now - 3_600_000 + (r * 100 + k) * 1_000),
      ).flat();
      expect(await post(r % 2 ? b : a, traceRequest(spans))).toBe(200);
    }
    const learned = async (x: Instance) => {
      const r = await fetch(`http://${x.admin}/api/v1/baselines?service=payments`);
      if (r.status !== 200) return false;
      const body = (await r.json()) as { baselines: ProfileJson[] };
      return body.baselines.some((k) => k.global.samples === 2_000);
    };
    await until(async () => (await learned(a)) && (await learned(b)), 'the fleet to learn');

    let n = 1_000_000;
    const slow = (count: number) =>
      traceRequest(
        Array.from({ length: count }, (_x, k) =>
          checkoutTrace(++n, Date.now() + k * 100, { paymentsMs: 2_000 }),
        ).flat(),
      );
    const incidents = async (x: Instance) => {
      const r = await fetch(`http://${x.admin}/api/v1/incidents`);
      return ((await r.json()) as { incidents: { id: string; spans: number }[] }).incidents;
    };
    expect(await post(a, slow(5))).toBe(200);
    await until(async () => (await incidents(b)).length === 1, "a's incident listed by b");
    const [opened] = await incidents(b);
    expect(await post(b, slow(5))).toBe(200);
    // b's own spans join the fleet's incident once its flush found a's.
    await until(
      async () => (await incidents(a)).some((i) => i.spans === 30),
      "b's spans in a's incident",
    );
    for (const x of [a, b]) {
      const list = await incidents(x);
      expect(list.map((i) => [i.id, i.spans])).toEqual([[opened!.id, 30]]);
    }
    const body = slow(2);
    const ids = new Set(spanIds(body));
    expect(await post(b, body)).toBe(200);
    await sink.waitForSpans(ids);
    const tagged = sink.spans().filter((s) => ids.has(s.spanId));
    expect(new Set(tagged.map((s) => s.attributes['anomaly.incident_id']))).toEqual(
      new Set([opened!.id]),
    );
    for (const x of [a, b]) {
      x.proc.kill('SIGTERM');
      expect(await x.proc.exited).toBe(0);
    }
  }, 180_000);
});
