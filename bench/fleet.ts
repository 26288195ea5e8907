/**
 * `BENCH_FLEET=1 npm run bench`: the fleet mode. N anomaly processors (1, 4, 16; BENCH_FLEET_SIZES)
 * share one PostgreSQL database (a throwaway cluster of Debian's postgresql 15, as the tests use)
 * in this process, each learning the traffic of the same 200 keys. Per simulated hour each one
 * learns 2,000 spans and all flush at once, as a fleet's timers do; then one recalculation runs
 * for the fleet. In the second half of the run each instance opens an incident on each of 10 keys
 * every hour (as the traffic detector opens one, `openIncident`; they resolve within the hour),
 * which a fleet's flushes write and read as the fleet's (schema 6): the fleet stores 10 an hour.
 * Printed: the median and the slowest flush of an instance, the recalculation, the incidents
 * stored, and the same single processor on SQLite measured in the same run as the reference.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AnomalyDetector } from '../src/detectors/anomaly/detector.js';
import { standaloneDetector } from '../test/detectors/helpers/detector.js';
import { traceRequest } from '../test/detectors/helpers/traces.js';
import { FakeClock } from '../test/helpers/fake-clock.js';
import { PG_PASSWORD, PgCluster } from '../test/helpers/postgres.js';
import { envWholeNumber, envWholeNumbers } from './lib/args.js';

// `BENCH_FLEET=1 npm run bench` runs this file.
const SIZES = envWholeNumbers('bench', 'BENCH_FLEET_SIZES', [1, 4, 16]);
const HOURS = envWholeNumber('bench', 'BENCH_FLEET_HOURS', 6);
const KEYS = 200;
const SPANS_PER_KEY = 10;
/** Keys with an incident each hour of the second half. */
const INCIDENTS_PER_HOUR = 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** One hour of one instance's traffic: 200 keys, 10 spans each, as 20 requests. */
function hour(startMs: number, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = 0; r < 20; r++) {
    out.push(
      traceRequest(
        Array.from({ length: 100 }, (_s, j) => {
          const n = r * 100 + j;
          return {
            service: `svc-${n % 10}`,
            name: `op-${Math.floor(n / 10) % (KEYS / 10)}`,
            startMs: startMs + n * 1000,
            durationMs: 10 + ((n * 7919 + seed * 104729) % 97),
          };
        }),
      ),
    );
  }
  return out;
}

interface Row {
  label: string;
  instances: number;
  flushMedian: number;
  flushMax: number;
  recalc: number;
  rows: number;
  incidents: number;
}

async function measure(
  label: string,
  storages: string[],
  settings: Record<string, unknown>,
  count: () => { rows: number; incidents: number },
): Promise<Row> {
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 0));
  const fleet: AnomalyDetector[] = [];
  for (const s of storages) fleet.push(await standaloneDetector(s, settings, clock));
  const flushes: number[] = [];
  for (let h = 0; h < HOURS; h++) {
    fleet.forEach((d, i) => {
      for (const body of hour(clock.now(), i)) d.accept(d.score(body));
      if (h < HOURS / 2) return;
      for (let k = 0; k < INCIDENTS_PER_HOUR; k++) {
        const key = { service: `svc-${k}`, operation: `op-${k}` };
        d.incidents?.openIncident({ ...key, reason: 'bench', severity: 2 }, clock.now());
      }
    });
    clock.advance(3_600_000);
    await Promise.all(
      fleet.map(async (d) => {
        const t = performance.now();
        await d.flushNow();
        flushes.push(performance.now() - t);
      }),
    );
    await Promise.all(fleet.map((d) => d.idle()));
  }
  const t = performance.now();
  await fleet[0]!.recalculate();
  const recalc = performance.now() - t;
  for (const d of fleet) await d.shutdown();
  const { rows, incidents } = count();
  return {
    label,
    instances: storages.length,
    flushMedian: median(flushes),
    flushMax: Math.max(...flushes),
    recalc,
    rows,
    incidents,
  };
}

export async function runFleet(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-bench-fleet-'));
  const cluster = await PgCluster.start();
  try {
    const password = join(dir, 'pw');
    writeFileSync(password, PG_PASSWORD);
    const settings = { min_samples: 20, postgres: { password_file: password } };
    const rows: Row[] = [];
    const file = join(dir, 'one.db');
    rows.push(
      await measure('SQLite, one processor (reference)', [file], { min_samples: 20 }, () => {
        const db = new Database(file, { readonly: true });
        const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
        try {
          return {
            rows: n('SELECT count(*) AS n FROM daily_stats'),
            incidents: n('SELECT count(*) AS n FROM incidents'),
          };
        } finally {
          db.close();
        }
      }),
    );
    for (const n of SIZES) {
      const db = `fleet_${n}`;
      cluster.createDatabase(db);
      const url = cluster.url(db);
      rows.push(
        await measure(`PostgreSQL, ${n} processors`, Array(n).fill(url), settings, () => ({
          rows: Number(cluster.psql('SELECT count(*) FROM hg_daily', db)),
          // Before schema 6 a fleet stored no incident.
          incidents:
            cluster.psql("SELECT to_regclass('hg_incidents') IS NOT NULL", db) === 't'
              ? Number(cluster.psql('SELECT count(DISTINCT id) FROM hg_incidents', db))
              : 0,
        })),
      );
    }
    const ref = rows[0]!;
    process.stdout.write(
      `\nFleet: ${KEYS} keys, ${KEYS * SPANS_PER_KEY} spans an hour per instance, ${HOURS} hours; one process, a loaded machine gives wide spreads\n\n` +
        '| storage | flush ms (median) | flush ms (slowest) | recalculation ms | daily rows | incidents stored | recalculation / reference |\n' +
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
        rows
          .map(
            (r) =>
              `| ${r.label} | ${r.flushMedian.toFixed(1)} | ${r.flushMax.toFixed(1)} | ${r.recalc.toFixed(0)} | ${r.rows} | ${r.incidents} | ${(r.recalc / ref.recalc).toFixed(2)} |`,
          )
          .join('\n') +
        '\n',
    );
  } finally {
    cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
