import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { anomalyProcessorSchema } from '../../../src/detectors/anomaly/config.js';
import { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { useTempDirs } from '../../exporters/harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { PG_PASSWORD, usePgCluster } from '../../helpers/postgres.js';
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
  const d = new AnomalyDetector('anomaly', { id: 'anomaly', logger, clock, metrics }, config);
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
