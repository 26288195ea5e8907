import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { U_MEAN } from '../../../src/detectors/anomaly/internal/level.js';
import { useTempDirs } from '../../exporters/harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { PG_PASSWORD } from '../../helpers/postgres.js';
import { usePgCluster } from '../../helpers/use-postgres.js';
import { standaloneDetector } from '../helpers/detector.js';
import { learnLevel, levelSpans, playLive } from '../helpers/level-traffic.js';
import { Random } from '../helpers/random.js';

// A real PostgreSQL server (Debian's postgresql 15), a throwaway cluster for this file.
const pg = usePgCluster();
const tempDir = useTempDirs('hourglass-fleet-levels-');
const open: AnomalyDetector[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.shutdown()));
});

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;

/** A new database on the cluster; the password in a file. */
function newDatabase(): { db: string; storage: string; passwordFile: string } {
  const db = pg.database();
  const passwordFile = join(tempDir(), 'pg-password');
  writeFileSync(passwordFile, `${PG_PASSWORD}\n`);
  return { db, storage: pg.cluster().url(db), passwordFile };
}

describe('levels in a fleet database (PostgreSQL)', () => {
  const start = async (
    s: ReturnType<typeof newDatabase>,
    instance: string,
    clock: FakeClock,
    fleetSchema?: number,
  ) => {
    const d = await standaloneDetector(
      s.storage,
      { min_samples: 20, postgres: { password_file: s.passwordFile, instance } },
      clock,
      { fleetSchema },
    );
    open.push(d);
    return d;
  };
  const stop = async (d: AnomalyDetector) => {
    open.splice(open.indexOf(d), 1);
    await d.shutdown();
  };

  it('an instance restarted under its name takes up its level; a new one, what the fleet learned', async () => {
    const s = newDatabase();
    const clock = new FakeClock(MONDAY + 9 * H);
    const r = new Random(21);
    const a = await start(s, 'a', clock);
    await learnLevel(a, clock, r);
    // A slowdown under way when it stops.
    await playLive(a, clock, levelSpans(r, clock.now(), 80, 4));
    const before = a.keys({})[0]!.level.snapshot();
    expect(before.value).toBeGreaterThan(2);
    await stop(a);
    expect(pg.cluster().psql('SELECT instance FROM hg_levels', s.db)).toBe('a');

    // Restarted at once under its name: all of it, the slowdown under way too.
    const again = await start(s, 'a', clock);
    const resumed = again.keys({})[0]!.level.snapshot();
    expect(resumed.thresholds).toEqual(before.thresholds);
    expect(resumed.histogram).toEqual(before.histogram);
    expect(resumed.samples).toBe(before.samples);
    expect(resumed.value).toBe(before.value);

    // Another name (a Deployment's new pod): what instance a learned, not its live state.
    const b = await start(s, 'b', clock);
    const taken = b.keys({})[0]!.level.snapshot();
    expect(taken.thresholds).toEqual(before.thresholds);
    expect(taken.histogram).toEqual(before.histogram);
    expect(taken.value).toBe(U_MEAN);
    // It tags a 3x slowdown at once with them.
    const tagged = await playLive(b, clock, levelSpans(r, clock.now(), 120, 3));
    expect(tagged.filter((sev) => sev <= 3).length).toBeGreaterThanOrEqual(60);
    await stop(b);
    await stop(again);
    expect(pg.cluster().psql('SELECT instance FROM hg_levels ORDER BY 1', s.db)).toBe('a\nb');

    // Retention, two hours on: the rows of instances gone go once a newer one of the key exists.
    clock.advance(2 * H);
    const c = await start(s, 'c', clock);
    await playLive(c, clock, levelSpans(r, clock.now(), 400));
    await stop(c);
    const d = await start(s, 'd', clock);
    await stop(d);
    expect(pg.cluster().psql('SELECT instance FROM hg_levels ORDER BY 1', s.db)).toBe('c');
  });

  it('migrates a database of schema 6; an instance of schema 6 beside it writes no level', async () => {
    const s = newDatabase();
    const clock = new FakeClock(MONDAY + 9 * H);
    const r = new Random(22);
    const old = await start(s, 'old', clock, 6);
    await learnLevel(old, clock, r);
    await old.flushNow();
    expect(pg.cluster().psql("SELECT to_regclass('hg_levels') IS NULL", s.db)).toBe('t');

    const fresh = await start(s, 'new', clock);
    expect(pg.cluster().psql("SELECT value FROM hg_meta WHERE name = 'schema_version'", s.db)).toBe(
      '8',
    );
    await learnLevel(fresh, clock, r);
    await stop(old);
    await stop(fresh);
    expect(pg.cluster().psql('SELECT instance FROM hg_levels', s.db)).toBe('new');
  });
});
