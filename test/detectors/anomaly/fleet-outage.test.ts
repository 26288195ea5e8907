import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { anomalyProcessorSchema } from '../../../src/detectors/anomaly/config.js';
import { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { PG_SCHEMA_VERSION } from '../../../src/detectors/anomaly/internal/store/pg-schema.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { useTempDirs } from '../../exporters/harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { runCli } from '../../helpers/process.js';
import { PG_PASSWORD } from '../../helpers/postgres.js';
import { usePgCluster } from '../../helpers/use-postgres.js';
import { protoToJson } from '../../../src/otlp/json-encode.js';
import { traceRequest } from '../helpers/traces.js';

// A real PostgreSQL server (Debian's postgresql 15), stopped and started by the tests.
const pg = usePgCluster();
const tempDir = useTempDirs('hourglass-fleet-outage-');
const detectors: AnomalyDetector[] = [];
afterEach(async () => {
  await Promise.all(detectors.splice(0).map((d) => d.shutdown()));
});

interface Captured {
  d: AnomalyDetector;
  logs: Record<string, unknown>[];
  metrics: SelfMetrics;
}

async function metric(m: SelfMetrics, name: string, labels: Record<string, string> = {}) {
  const found = m.registry.getSingleMetric(name);
  if (!found) return 0;
  const { values } = await found.get();
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
    )
    .reduce((n, v) => n + v.value, 0);
}

/** A detector on `storage` whose logs are kept (JSON lines, as pino writes them). */
async function detector(
  clock: FakeClock,
  storage: string,
  settings: Record<string, unknown> = {},
  fleetSchema?: number,
): Promise<Captured> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const metrics = new SelfMetrics({ processMetrics: false });
  const config = anomalyProcessorSchema.parse({
    storage,
    flush_interval: '1h',
    recalculation: { enabled: false },
    min_samples: 20,
    postgres: { timeout: '1s', password_file: passwordFile() },
    ...settings,
  });
  const d = new AnomalyDetector('anomaly', { id: 'anomaly', logger, clock, metrics }, config, {
    fleetSchema,
  });
  await d.start();
  detectors.push(d);
  return { d, logs, metrics };
}

function passwordFile(password = PG_PASSWORD): string {
  const file = join(tempDir(), 'pg-password');
  writeFileSync(file, `${password}\n`);
  return file;
}

function newDatabase(): string {
  return pg.cluster().url(pg.database());
}

/** Sends `n` spans of one key, a second apart from `startMs`; returns how many were tagged. */
function send(d: AnomalyDetector, startMs: number, n: number, durationMs = 40): number {
  let tagged = 0;
  for (let i = 0; i < n; i += 50) {
    const spans = Array.from({ length: Math.min(50, n - i) }, (_s, j) => ({
      name: 'GET /cart',
      startMs: startMs + (i + j) * 1000,
      durationMs: durationMs + ((i + j) % 7),
    }));
    const scored = d.score(traceRequest(spans));
    tagged += scored.anomalies.length;
    d.accept(scored);
  }
  return tagged;
}

function storedCount(database: string): number {
  return Number(pg.cluster().psql('SELECT COALESCE(SUM(count), 0) FROM hg_daily', database));
}

describe('a fleet whose database fails', () => {
  it('says once at start that reopen_within and hold_while_slower stay off on a shared database', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const { logs } = await detector(clock, newDatabase(), {
      incidents: { reopen_within: '30m', hold_while_slower: 1.1 },
    });
    expect(logs.filter((l) => String(l['msg']).includes('PostgreSQL storage'))).toEqual([
      expect.objectContaining({
        level: 40,
        msg: "incidents.reopen_within and incidents.hold_while_slower are not used with a PostgreSQL storage (a fleet's incidents resolve across instances): they stay off",
      }),
    ]);
  });

  it('scores from memory while the database is down, logs the outage once, and writes every sample once it is back', async () => {
    const url = newDatabase();
    const db = url.split('/').pop()!;
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const { d, logs, metrics } = await detector(clock, url);
    send(d, clock.now(), 300);
    await d.flushNow();
    expect(storedCount(db)).toBe(300);

    pg.cluster().stopServer('immediate'); // as a crash: no checkpoint, recovery at the next start
    try {
      // Traffic goes on: scored against the baseline in memory, and a slow span tagged.
      send(d, clock.now() + 300_000, 400);
      expect(send(d, clock.now() + 800_000, 1, 900)).toBe(1);
      for (let i = 0; i < 5; i++) {
        clock.advance(1000);
        await d.flushNow();
      }
      expect(d.keys({ service: 'checkout' })[0]!.count()).toBe(701);
    } finally {
      pg.cluster().startServer();
    }
    const outage = logs.filter((l) => String(l['msg']).includes('shared baseline database'));
    expect(outage.filter((l) => l['level'] === 50)).toHaveLength(1);
    expect(
      await metric(metrics, 'hourglass_anomaly_storage_failures_total'),
    ).toBeGreaterThanOrEqual(5);

    await d.flushNow();
    expect(storedCount(db)).toBe(701);
    expect(logs.some((l) => l['msg'] === 'the shared baseline database is usable again')).toBe(
      true,
    );
    // The anomaly tagged during the outage was kept and written too.
    expect(
      Number(pg.cluster().psql('SELECT count(*) FROM hg_anomalies WHERE duration_ms >= 900', db)),
    ).toBe(1);
    expect(await metric(metrics, 'hourglass_anomaly_dropped_total', { reason: 'learning' })).toBe(
      0,
    );
  }, 120_000);

  it('starts without the database (a wrong password), never logging the password, and scores from memory', async () => {
    const url = newDatabase();
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const wrong = 'not-the-password-42';
    const { d, logs } = await detector(clock, url, {
      postgres: { timeout: '1s', password_file: passwordFile(wrong) },
    });
    send(d, clock.now(), 100);
    await d.flushNow();
    await d.flushNow();
    expect(d.keys({ service: 'checkout' })[0]!.count()).toBe(100);
    expect(d.keys({ service: 'checkout' })[0]!.pending.length).toBeGreaterThan(0);
    const errors = logs.filter((l) => l['level'] === 50);
    expect(errors).toHaveLength(1);
    expect(String(JSON.stringify(errors[0]))).toMatch(/password authentication failed/);
    const all = JSON.stringify(logs);
    expect(all).not.toContain(wrong);
    expect(all).not.toContain(PG_PASSWORD);
    expect(all).toContain(url.replace(/\/[^/]*$/, '/')); // the URL is named, without a password
  }, 60_000);

  it('runs the scheduled recalculation once for the fleet; every instance installs its thresholds', async () => {
    const url = newDatabase();
    const db = url.split('/').pop()!;
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 2, 0));
    const nightly = { recalculation: { enabled: true, schedule: '0 3 * * *' } };
    const a = await detector(clock, url, nightly);
    const b = await detector(clock, url, nightly);
    send(a.d, clock.now(), 1000);
    send(b.d, clock.now(), 1000);
    await a.d.flushNow();
    await b.d.flushNow();
    await a.d.flushNow();
    await Promise.all([a.d.idle(), b.d.idle()]);
    pg.cluster().psql('DELETE FROM hg_thresholds', db); // what the first refreshes computed

    clock.advance(60 * 60_000); // 03:00: both schedules fire
    await Promise.all([a.d.idle(), b.d.idle()]);
    expect(pg.cluster().psql('SELECT count(*) FROM hg_recalculations', db)).toBe('1');
    const ran = [a, b].filter((x) =>
      x.logs.some((l) => l['msg'] === 'thresholds recalculated for the fleet'),
    );
    expect(ran).toHaveLength(1);
    expect(Number(pg.cluster().psql('SELECT count(*) FROM hg_thresholds', db))).toBeGreaterThan(0);
    await b.d.flushNow();
    await a.d.flushNow();
    for (const x of [a, b]) {
      const [key] = x.d.keys({ service: 'checkout' });
      expect(x.d.profile(key!).thresholds_computed_at).not.toBeNull();
    }
  }, 120_000);
});

describe('a rolling update of the fleet', () => {
  it('runs instances of two schema versions side by side on one database, and refuses a version the database no longer admits', async () => {
    const url = newDatabase();
    const db = url.split('/').pop()!;
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    // The previous release (schema 1) runs alone first.
    const old = await detector(clock, url, {}, 1);
    send(old.d, clock.now(), 200);
    expect(send(old.d, clock.now() + 250_000, 1, 900)).toBe(1);
    await old.d.flushNow();
    expect(pg.cluster().psql("SELECT value FROM hg_meta WHERE name = 'schema_version'", db)).toBe(
      '1',
    );
    expect(pg.cluster().psql("SELECT to_regclass('hg_instances') IS NULL", db)).toBe('t');

    // The new release starts beside it and migrates the database to its schema (additive).
    const next = await detector(clock, url);
    expect(pg.cluster().psql("SELECT value FROM hg_meta WHERE name = 'schema_version'", db)).toBe(
      String(PG_SCHEMA_VERSION),
    );
    expect(next.d.keys({ service: 'checkout' })[0]!.count()).toBe(201); // the fleet's baseline
    // Both keep learning and recording; each reads the other's rows.
    send(old.d, clock.now() + 300_000, 100);
    send(next.d, clock.now() + 400_000, 100);
    expect(send(old.d, clock.now() + 500_000, 1, 950)).toBe(1);
    expect(send(next.d, clock.now() + 510_000, 1, 960)).toBe(1);
    await old.d.flushNow();
    await next.d.flushNow();
    await old.d.flushNow();
    expect(storedCount(db)).toBe(403);
    for (const x of [old, next]) expect(x.d.keys({ service: 'checkout' })[0]!.count()).toBe(403);
    expect(pg.cluster().psql('SELECT count(*), count(instance) FROM hg_anomalies', db)).toBe('3|1');
    expect(
      pg.cluster().psql('SELECT instance IS NOT NULL, schema_version FROM hg_instances', db),
    ).toBe(`t|${PG_SCHEMA_VERSION}`);
    expect([...old.logs, ...next.logs].filter((l) => l['level'] === 50)).toEqual([]);

    // An old instance restarting during the update is admitted (min_reader 1)...
    const again = await detector(clock, url, {}, 1);
    expect(again.d.keys({ service: 'checkout' })[0]!.count()).toBe(403);
    // ...but not once a release that breaks schema 1 has raised min_reader: it says so, and
    // scores from memory.
    pg.cluster().psql("UPDATE hg_meta SET value = '2' WHERE name = 'min_reader'", db);
    const refused = await detector(clock, url, {}, 1);
    const errors = refused.logs.filter((l) => l['level'] === 50);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toMatch(
      /schema version \d+, which needs hourglass of schema version 2 or newer \(this one: 1\); finish the rolling update/,
    );
    expect(refused.d.keys({})).toEqual([]);
    send(refused.d, clock.now() + 600_000, 10);
    expect(refused.d.keys({ service: 'checkout' })[0]!.count()).toBe(10);
  }, 120_000);
});

/** A sidecar's config file whose anomaly processor has the settings `anomaly` (YAML). */
function configFile(anomaly: string): string {
  const file = join(tempDir(), 'otel-config.yaml');
  writeFileSync(
    file,
    `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
processors:
  anomaly: ${anomaly}
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [anomaly], exporters: [debug] }
`,
  );
  return file;
}

describe('the operational commands with a shared database', () => {
  it('say that they work on a SQLite file and where to recalculate a fleet, naming no password', async () => {
    const file = configFile(
      '{ storage: "postgres://hourglass:s3cret-in-url@db.example:5432/hourglass" }',
    );
    const r = await runCli(['recalculate', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "processors.anomaly.storage is a shared PostgreSQL database (postgres://hourglass@db.example:5432/hourglass): this command works on a SQLite file; recalculate a fleet's thresholds with POST /api/v1/recalculate on any of its instances",
    );
    expect(r.stderr + r.stdout).not.toContain('s3cret-in-url');
  }, 60_000);

  it("hourglass backfill writes into the fleet's database as an instance would: a running instance merges it at its next flush, a new one starts with it, both score as a single processor backfilled alike", async () => {
    const url = newDatabase();
    const db = url.split('/').pop()!;
    const dir = tempDir();
    // 100 spans at 09:xx UTC on each of the last three days (the CLI runs on the system clock).
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const spans = Array.from({ length: 300 }, (_s, i) => ({
      name: 'GET /cart',
      startMs: today - (1 + Math.floor(i / 100)) * 86_400_000 + 9 * 3_600_000 + (i % 100) * 1000,
      durationMs: 40 + ((i * 7919) % 61) / 3,
    }));
    const old = { ...spans[0]!, startMs: today - 30 * 86_400_000 }; // outside the 7-day window
    const traces = join(dir, 'traces.json');
    writeFileSync(traces, JSON.stringify(protoToJson('traces', traceRequest([...spans, old]))));
    const configOf = (storage: string, password = PG_PASSWORD) =>
      configFile(
        `{ storage: "${storage}", postgres: { password_file: ${passwordFile(password)} }, min_samples: 20, window_days: 7 }`,
      );
    const clock = new FakeClock(Date.now());
    const running = await detector(clock, url);
    expect(running.d.keys({})).toEqual([]);

    const r = await runCli(['backfill', '--config', configOf(url), '--file', traces]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `learned 300 of 301 span(s) into 1 key(s) of anomaly (${url.replace(/\/\/[^@]*@/, '//hourglass@')}); skipped: 1 outside the 7-day window`,
    );
    expect(r.stdout).toMatch(/recalculated thresholds of 1 key\(s\).*: \d+ slot\(s\) learned/);
    expect(r.stdout).not.toContain(PG_PASSWORD);
    expect(storedCount(db)).toBe(300);
    expect(
      pg
        .cluster()
        .psql("SELECT count(DISTINCT instance) FROM hg_daily WHERE instance LIKE 'backfill-%'", db),
    ).toBe('1');

    // The same file into a single processor's SQLite file: the reference.
    const file = join(dir, 'one.db');
    const single = await runCli(['backfill', '--config', configOf(file), '--file', traces]);
    expect(single.code).toBe(0);
    const one = await detector(clock, file);
    await one.d.flushNow();
    await one.d.idle();

    // The running instance merges the backfill at its next flush, thresholds with it; a new
    // instance starts with both.
    await running.d.flushNow();
    await running.d.idle();
    const fresh = await detector(clock, url);
    const [ref] = one.d.keys({ service: 'checkout' });
    for (const x of [running, fresh]) {
      const [key] = x.d.keys({ service: 'checkout' });
      expect(key!.count()).toBe(300);
      const got = x.d.profile(key!);
      const want = one.d.profile(ref!);
      expect(got.global.samples).toBe(want.global.samples);
      expect(got.global.p99_ms).toBeCloseTo(want.global.p99_ms!, 6);
      expect(got.global.mean_ms).toBeCloseTo(want.global.mean_ms!, 9);
      expect(got.thresholds_computed_at).not.toBeNull();
    }
    // A slow span at 09:30 today: tagged alike by the fleet and the single processor.
    const slow = traceRequest([
      { name: 'GET /cart', startMs: today + 9.5 * 3_600_000, durationMs: 400 },
    ]);
    const tagged = fresh.d.score(slow).anomalies;
    expect(tagged).toHaveLength(1);
    expect(tagged[0]!.severity).toBe(one.d.score(slow).anomalies[0]!.severity);

    // A wrong password: a clear error naming the database, not the password, and exit 2.
    const refused = await runCli([
      'backfill',
      '--config',
      configOf(url, 'not-the-password'),
      '--file',
      traces,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^hourglass backfill: cannot use the shared baseline database postgres:\/\/hourglass@[^ ]+: password authentication failed/,
    );
    expect(refused.stderr + refused.stdout).not.toContain('not-the-password');
    expect(storedCount(db)).toBe(300);
  }, 120_000);
});
