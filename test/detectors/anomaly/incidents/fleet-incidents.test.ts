import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../../../src/admin/admin-extension.js';
import type { IncidentNotifier } from '../../../../src/extensions/incident-notifier/incident-notifier.js';
import type { Sidecar } from '../../../../src/main.js';
import { useTempDirs } from '../../../exporters/harness.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { pagerDutyStandIn, webhookStandIn, type StandIn } from '../../../helpers/notify-servers.js';
import { PG_PASSWORD } from '../../../helpers/postgres.js';
import { metricValue } from '../../../helpers/self-metrics.js';
import { usePgCluster } from '../../../helpers/use-postgres.js';
import { Capture } from '../../helpers/capture-exporter.js';
import { standaloneDetector } from '../../helpers/detector.js';
import { detectorOf, httpEndpoint, startTestSidecar } from '../../helpers/sidecar.js';
import { decodeSpans, traceRequest } from '../../helpers/traces.js';
import { checkoutTrace, H, history, learnHistory, MONDAY, postSpans } from './traffic.js';

/**
 * Incidents shared by sidecars on one real PostgreSQL database (Debian's postgresql 15, a
 * throwaway cluster): each sidecar is the real one (OTLP receiver, anomaly processor, admin API,
 * incident_notifier posting to a webhook stand-in), on a clock of the test's.
 */
const pg = usePgCluster();
const tempDir = useTempDirs('hourglass-fleet-incidents-');

interface Instance {
  sidecar: Sidecar;
  capture: Capture;
  otlp: string;
  admin: string;
}

describe('incidents of a fleet on one PostgreSQL database', () => {
  let clock: FakeClock;
  let hook: StandIn;
  let hookUrl: string;
  let pd: StandIn;
  let pdUrl: string;
  const running: Instance[] = [];
  let n = 0;
  /** The instances' flush interval: flushes are the test's own (`flush`) unless it is short. */
  let flushInterval = '1h';

  beforeEach(async () => {
    clock = new FakeClock(MONDAY + 12 * H);
    flushInterval = '1h';
    hook = webhookStandIn();
    hookUrl = await hook.listen();
    pd = pagerDutyStandIn();
    pdUrl = await pd.listen();
  });
  afterEach(async () => {
    for (const i of running.splice(0).reverse()) await i.sidecar.shutdown();
    await hook.close();
    await pd.close();
  });

  async function start(url: string, instance: string): Promise<Instance> {
    const passwordFile = join(tempDir(), 'pg-password');
    writeFileSync(passwordFile, `${PG_PASSWORD}\n`);
    const capture = new Capture();
    const sidecar = await startTestSidecar({
      clock,
      anomaly: {
        storage: url,
        postgres: { password_file: passwordFile, instance, timeout: '1s' },
        flush_interval: flushInterval,
        recalculation: { enabled: false },
        // Reopening is off in a fleet, whatever the setting (detector.ts).
        incidents: { quiet_period: '2m', reopen_within: '30m' },
      },
      factories: [capture.factory],
      extensions: {
        admin: { endpoint: '127.0.0.1:0' },
        incident_notifier: {
          receivers: {
            ops: { type: 'webhook', url: `${hookUrl}/hooks/incidents` },
            pager: { type: 'pagerduty', url: `${pdUrl}/v2/enqueue`, routing_key: 'k'.repeat(32) },
          },
          routes: [{ receivers: ['ops', 'pager'] }],
        },
      },
    });
    const admin = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    const i = { sidecar, capture, otlp: httpEndpoint(sidecar), admin };
    running.push(i);
    return i;
  }

  const flush = (i: Instance) => detectorOf(i.sidecar).flushNow();
  const notified = async (...of: Instance[]) => {
    for (const i of of) {
      await i.sidecar.service.find<IncidentNotifier>('extension', 'incident_notifier')!.idle();
    }
    return hook.received.map((r) => `${r.body['event']} ${r.body['incident']['id']}`);
  };
  const get = async (i: Instance, path: string) => {
    const res = await fetch(i.admin + path);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  /** `count` traces of the checkout request starting now, one per 100 ms, in one request. */
  const traffic = (i: Instance, count: number, paymentsMs?: number) => {
    const now = clock.now();
    return postSpans(
      i.otlp,
      Array.from({ length: count }, (_, k) =>
        checkoutTrace(++n, now + k * 100, { paymentsMs }),
      ).flat(),
    );
  };
  const incidentIds = (i: Instance) =>
    new Set(
      i.capture.batches
        .flatMap((b) => decodeSpans(b.bytes))
        .map((s) => s.attributes['anomaly.incident_id'])
        .filter((x) => x !== undefined),
    );

  /** Two sidecars on one database, both with the fleet's baselines. */
  async function twoInstances(): Promise<[Instance, Instance, string]> {
    const { instances, db } = await fleet('a', 'b');
    return [instances[0]!, instances[1]!, db];
  }

  /** Sidecars of these names on one new database, all with the fleet's baselines. */
  async function fleet(...names: string[]): Promise<{ instances: Instance[]; db: string }> {
    const db = pg.database();
    const url = pg.cluster().url(db);
    const instances: Instance[] = [];
    for (const name of names) instances.push(await start(url, name));
    await learnHistory(instances[0]!.otlp, 1_000_000);
    for (const i of instances) await flush(i); // the others read what the first learned
    return { instances, db };
  }

  /** An incident opened by a, which b joins a second later: [a, b, its id]. */
  async function oneIncidentOnBoth(): Promise<[Instance, Instance, string]> {
    const { instances, id } = await oneIncidentOn('a', 'b');
    return [instances[0]!, instances[1]!, id];
  }

  /** An incident opened by the first instance, which each of the others joins a second later. */
  async function oneIncidentOn(
    ...names: string[]
  ): Promise<{ instances: Instance[]; id: string; url: string }> {
    const { instances, db } = await fleet(...names);
    const [first, ...others] = instances;
    await traffic(first!, 5, 2_000);
    await flush(first!);
    const [id] = [...incidentIds(first!)] as string[];
    for (const i of others) {
      clock.advance(1_000);
      await traffic(i, 5, 2_000);
      await flush(i); // joins the first one's incident
    }
    await flush(first!);
    return { instances, id: id!, url: pg.cluster().url(db) };
  }

  /**
   * Minutes pass, one at a time, each instance of `running` flushing every minute as its timer
   * would; `faulty`, when given, sees one slow trace a minute (the fault goes on).
   */
  async function minutes(n: number, running: Instance[], faulty?: Instance): Promise<void> {
    for (let k = 0; k < n; k++) {
      clock.advance(60_000);
      if (faulty) await traffic(faulty, 1, 2_000);
      for (const i of running) await flush(i);
    }
  }
  const paged = () => pd.received.map((r) => `${r.body['event_action']} ${r.body['dedup_key']}`);
  const takenOver = (i: Instance) => metricValue(i.sidecar, 'hourglass_incidents_taken_over_total');

  /** Stops an instance as a crash would leave it: its open parts stay open in the database. */
  async function kill(i: Instance): Promise<void> {
    running.splice(running.indexOf(i), 1);
    await detectorOf(i.sidecar).flushNow();
    await i.sidecar.shutdown();
  }

  it('a fault seen by both instances is one incident, listed alike by both admin APIs, paged once', async () => {
    const [a, b, db] = await twoInstances();
    await traffic(a, 5, 2_000);
    await flush(a); // what the opening asked for at once; awaited here
    const [id] = [...incidentIds(a)] as string[];
    expect(id).toMatch(/^inc-/);
    expect(await notified(a)).toEqual([`opened ${id}`]);

    // b sees the same fault: it opens an incident of its own, whose claim finds a's.
    clock.advance(1_000);
    await traffic(b, 5, 2_000);
    const local = [...incidentIds(b)];
    expect(local).toHaveLength(1);
    expect(local[0]).not.toBe(id);
    await flush(b);
    b.capture.clear();
    await traffic(b, 2, 2_000); // b's later spans carry the fleet's id
    expect([...incidentIds(b)]).toEqual([id]);
    await flush(b);
    await flush(a);

    for (const i of [a, b]) {
      const list = (await get(i, '/api/v1/incidents')).body.incidents;
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({
        id,
        status: 'open',
        severity: 'SEV1',
        origin: { service: 'payments', operation: 'POST /charge', peer_service: null },
        spans: 36, // 3 spans of 12 slow traces: 5 on a, 7 on b
        services: expect.arrayContaining([
          { service: 'payments', count: 12 },
          { service: 'checkout', count: 24 },
        ]),
      });
      const health = (await get(i, '/api/v1/health')).body.services;
      expect(health).toEqual(
        expect.arrayContaining([{ service: 'payments', status: 'critical', incidents: [id] }]),
      );
    }
    expect(pg.cluster().psql('SELECT id, instance FROM hg_incidents ORDER BY instance', db)).toBe(
      `${id}|a\n${id}|b`,
    );
    expect(await notified(a, b)).toEqual([`opened ${id}`]);

    // Resolved for the fleet once both parts are quiet; told once, by the instance that opened it.
    clock.advance(121_000);
    await flush(b);
    await flush(a);
    await flush(b);
    for (const i of [a, b]) {
      expect((await get(i, `/api/v1/incidents/${id}`)).body).toMatchObject({
        status: 'resolved',
        spans: 36,
      });
    }
    expect(await notified(a, b)).toEqual([`opened ${id}`, `resolved ${id}`]);
  }, 120_000);

  it('pages the fleet incident resolved only when the other instance is quiet too', async () => {
    const [a, b] = await twoInstances();
    await traffic(a, 5, 2_000);
    await flush(a);
    const [id] = [...incidentIds(a)] as string[];
    await traffic(b, 5, 2_000);
    await flush(b);
    // b goes on seeing the fault after a's part is quiet.
    clock.advance(100_000);
    await traffic(b, 3, 2_000);
    await flush(b);
    await flush(a);
    clock.advance(30_000); // a's part resolves here (2 min quiet); b's is still open
    await flush(a);
    expect((await get(a, `/api/v1/incidents/${id}`)).body.status).toBe('open');
    expect(await notified(a, b)).toEqual([`opened ${id}`]);
    clock.advance(100_000); // b's part resolves too
    await flush(b);
    await flush(a);
    expect(await notified(a, b)).toEqual([`opened ${id}`, `resolved ${id}`]);
    // The fault comes back within reopen_within: a new fleet incident, not the resolved one.
    expect(detectorOf(a.sidecar).incidents!.config.reopen_within).toBe(0);
    await traffic(a, 5, 2_000);
    await flush(a);
    const again = [...incidentIds(a)].filter((x) => x !== id);
    expect(again).toHaveLength(1);
    expect((await get(a, `/api/v1/incidents/${id}`)).body.status).toBe('resolved');
  }, 120_000);

  it("an instance gone for good: its open part counts as resolved once stale, and the fleet's incident resolves", async () => {
    const [a, b, id] = await oneIncidentOnBoth();
    await kill(b); // its part stays open in the database
    clock.advance(3 * 60_000); // a's part is quiet: resolved here, b's still counts as live
    await flush(a);
    expect((await get(a, `/api/v1/incidents/${id}`)).body.status).toBe('open');
    expect(await notified(a)).toEqual([`opened ${id}`]);
    // Live means changed within quiet_period + 2 flush intervals (1 h here) + 5 s.
    clock.advance(2 * H);
    await flush(a);
    expect((await get(a, `/api/v1/incidents/${id}`)).body).toMatchObject({
      status: 'resolved',
      spans: 30,
    });
    expect(await notified(a)).toEqual([`opened ${id}`, `resolved ${id}`]);
  }, 120_000);

  it('the instance that opened an incident dies before it resolves: the other takes over and PagerDuty gets the resolve, once', async () => {
    const [a, b, id] = await oneIncidentOnBoth();
    await notified(a, b);
    await kill(a); // the owner: its part stays open in the database
    expect(paged()).toEqual([`trigger ${id}`]);
    clock.advance(3 * 60_000); // b's part resolves; a's still counts as live: no one tells yet
    await flush(b);
    expect((await get(b, `/api/v1/incidents/${id}`)).body.status).toBe('open');
    await notified(b);
    expect(paged()).toEqual([`trigger ${id}`]);
    // a's part is stale after quiet_period + 2 flush intervals (1 h here) + 5 s: b takes over.
    clock.advance(2 * H);
    await flush(b);
    expect((await get(b, `/api/v1/incidents/${id}`)).body.status).toBe('resolved');
    await notified(b);
    expect(paged()).toEqual([`trigger ${id}`, `resolve ${id}`]);
    expect(await takenOver(b)).toBe(1);
    clock.advance(H);
    await flush(b);
    await notified(b);
    expect(paged()).toEqual([`trigger ${id}`, `resolve ${id}`]);
  }, 120_000);

  // With a flush interval of 1 min, an instance that has not flushed for 2 min 5 s is gone.
  it('the heir is gone too: the next instance running takes over, and PagerDuty still gets the resolve, once', async () => {
    flushInterval = '1m';
    const {
      instances: [a, b, c],
      id,
    } = await oneIncidentOn('a', 'b', 'c');
    await notified(a!, b!, c!);
    await kill(a!);
    // c goes on seeing the fault; b's part goes quiet (resolved). a is gone: b, the smallest
    // name running, takes over.
    await minutes(3, [c!, b!], c);
    expect(await takenOver(b!)).toBe(1);
    expect((await get(b!, `/api/v1/incidents/${id}`)).body.status).toBe('open');
    await kill(b!); // the heir goes too, its own part resolved
    await minutes(3, [c!], c);
    expect(await takenOver(c!)).toBe(1);
    expect((await get(c!, `/api/v1/incidents/${id}`)).body.status).toBe('open');
    await notified(c!);
    expect(paged()).toEqual([`trigger ${id}`]);
    await minutes(10, [c!]); // the fault is over: c's part goes quiet too
    expect((await get(c!, `/api/v1/incidents/${id}`)).body.status).toBe('resolved');
    await notified(c!);
    expect(paged()).toEqual([`trigger ${id}`, `resolve ${id}`]);
    await minutes(10, [c!]);
    await notified(c!);
    expect(paged()).toEqual([`trigger ${id}`, `resolve ${id}`]);
  }, 120_000);

  it('the one instance that saw an incident is gone for good: the smallest name running tells it resolved, once', async () => {
    flushInterval = '1m';
    const {
      instances: [a, b, c],
      db,
    } = await fleet('a', 'b', 'c');
    await traffic(a!, 5, 2_000); // only a sees the fault
    await flush(a!);
    const [id] = [...incidentIds(a!)] as string[];
    await notified(a!);
    expect(paged()).toEqual([`trigger ${id}`]);
    await kill(a!); // a pod rescheduled under a new name: a never comes back
    // Neither b nor c has a part of it. Once a's part is stale (quiet_period 2 min + 2 flush
    // intervals + 5 s), b, the smallest name running, tells it resolved; c does not.
    await minutes(3, [b!, c!]);
    expect(paged()).toEqual([`trigger ${id}`]);
    await minutes(2, [b!, c!]);
    await notified(b!, c!);
    expect(paged()).toEqual([`trigger ${id}`, `resolve ${id}`]);
    expect(hook.received.map((r) => `${r.body['event']} ${r.body['incident']['id']}`)).toEqual([
      `opened ${id}`,
      `resolved ${id}`,
    ]);
    expect([await takenOver(b!), await takenOver(c!)]).toEqual([1, 0]);
    for (const i of [b!, c!]) {
      expect((await get(i, `/api/v1/incidents/${id}`)).body.status).toBe('resolved');
    }
    // Neither tells it again, nor does an instance started later (the incident ended before it).
    await minutes(10, [b!, c!]);
    const later = await start(pg.cluster().url(db), 'aa');
    await minutes(3, [later, b!, c!]);
    await notified(later, b!, c!);
    expect(paged()).toEqual([`trigger ${id}`, `resolve ${id}`]);
  }, 120_000);

  it('the owner restarts under its name while another holds its incident: it is the one notifier again', async () => {
    flushInterval = '1m';
    const {
      instances: [a, b],
      id,
      url,
    } = await oneIncidentOn('a', 'b');
    await notified(a!, b!);
    await kill(a!);
    await minutes(5, [b!], b); // a gone, its part stale: b holds the notifications
    expect(await takenOver(b!)).toBe(1);
    const again = await start(url, 'a'); // a again: its part of the incident is its own again
    await minutes(3, [again, b!], b); // b reads that a runs again and hands the incident back
    await minutes(10, [again, b!]); // the fault is over: every part goes quiet
    for (const i of [again, b!]) {
      expect((await get(i, `/api/v1/incidents/${id}`)).body.status).toBe('resolved');
    }
    expect(await notified(again, b!)).toEqual([`opened ${id}`, `resolved ${id}`]);
    expect(paged()).toEqual([`trigger ${id}`, `resolve ${id}`]);
  }, 120_000);

  it('loses no incident and no span when the database is killed and restarted under load', async () => {
    const [a, b, db] = await twoInstances();
    pg.cluster().stopServer('immediate');
    let sent = 0;
    try {
      for (let k = 0; k < 10; k++) {
        await traffic(a, 2, 2_000);
        sent += 6;
        await flush(a); // fails: kept
        clock.advance(1_000); // the opening waits 3 s for its claim, then is paged anyway
      }
    } finally {
      pg.cluster().startServer();
    }
    const forwarded = a.capture.batches.flatMap((x) => decodeSpans(x.bytes));
    expect(forwarded.filter((s) => s.attributes['anomaly.severity'])).toHaveLength(sent);
    const [id] = [...incidentIds(a)] as string[];
    expect(await notified(a)).toEqual([`opened ${id}`]);
    await flush(a);
    await flush(b);
    expect(pg.cluster().psql('SELECT id, instance, status FROM hg_incidents', db)).toBe(
      `${id}|a|open`,
    );
    const seen = (await get(b, `/api/v1/incidents/${id}`)).body;
    expect(seen).toMatchObject({ id, status: 'open', spans: sent });
  }, 120_000);

  it('a rolling update: an instance of schema 5 runs beside one of schema 6, its incidents its own', async () => {
    const db = pg.database();
    const url = pg.cluster().url(db);
    const passwordFile = join(tempDir(), 'pg-password');
    writeFileSync(passwordFile, `${PG_PASSWORD}\n`);
    const settings = {
      postgres: { password_file: passwordFile, instance: 'old', timeout: '1s' },
      incidents: { quiet_period: '2m' },
    };
    // The previous release made the database (schema 5), then the new one starts and migrates it.
    const old = await standaloneDetector(url, settings, clock, { fleetSchema: 5 });
    try {
      const spans = history(2_000_000);
      for (let k = 0; k < spans.length; k += 1500) {
        old.accept(old.score(traceRequest(spans.slice(k, k + 1500))));
      }
      await old.flushNow();
      expect(pg.cluster().psql("SELECT value FROM hg_meta WHERE name = 'schema_version'", db)).toBe(
        '5',
      );
      const fresh = await start(url, 'new');
      expect(pg.cluster().psql("SELECT value FROM hg_meta WHERE name = 'schema_version'", db)).toBe(
        '8',
      );
      await traffic(fresh, 5, 2_000);
      await flush(fresh);
      const [id] = [...incidentIds(fresh)] as string[];
      expect(await notified(fresh)).toEqual([`opened ${id}`]);

      // The old one tags and opens its own incident, writes its flushes, and stays on schema 5.
      clock.advance(1_000);
      const slow = Array.from({ length: 5 }, (_, k) =>
        checkoutTrace(++n, clock.now() + k * 100, { paymentsMs: 2_000 }),
      ).flat();
      old.accept(old.score(traceRequest(slow)));
      const failuresBefore = old.fleet!.failures;
      await old.flushNow();
      expect(old.fleet!.failures).toBe(failuresBefore);
      const own = old.incidentSource!.list({ limit: 10 });
      expect(own).toHaveLength(1);
      expect(own[0]!.id).not.toBe(id);
      expect(pg.cluster().psql('SELECT DISTINCT instance FROM hg_incidents', db)).toBe('new');
      expect(
        pg
          .cluster()
          .psql("SELECT instance || ':' || schema_version FROM hg_instances ORDER BY 1", db),
      ).toBe('new:8\nold:5');
    } finally {
      await old.shutdown();
    }
  }, 120_000);
});
