import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import { EventStream } from '../../src/admin/internal/event-stream.js';
import { IncidentLog, MAX_INCIDENT_LOG } from '../../src/admin/internal/incident-log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { useSidecarFixture } from '../helpers/sidecar-fixture.js';
import { detectorOf, startTestSidecar } from '../detectors/helpers/sidecar.js';
import { openSse, startingPlace, type SseEvent } from './sse-client.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;
const STREAM = '/api/v1/incidents/stream';

/** The incident events read, as `<change> <incident id>`. */
const changes = (events: readonly SseEvent[]) =>
  events.filter((e) => e.event === 'incident').map((e) => `${e.data.change} ${e.data.id}`);

describe('resuming the incident stream', () => {
  const f = useSidecarFixture('hourglass-incident-resume-');
  let clock: FakeClock;
  let base: string;

  beforeEach(() => {
    clock = new FakeClock(MONDAY + 12 * H);
  });

  async function start(): Promise<void> {
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db'), incidents: { enabled: true, quiet_period: '2m' } },
      factories: [f.capture.factory],
      extensions: { admin: { endpoint: '127.0.0.1:0' } },
    });
    base = `http://${f.sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
  }

  /** Every change the incidents made (as `changes` writes them), heard from the processor. */
  function record(): string[] {
    const seen: string[] = [];
    detectorOf(f.sidecar!).incidentSource!.subscribe((c) =>
      seen.push(`${c.type} ${c.incident.id}`),
    );
    return seen;
  }

  /** Opens an incident of `service` (as a detector that sees what no span shows does). */
  const open = (service: string) =>
    detectorOf(f.sidecar!).incidents!.openIncident(
      { service, operation: 'op', reason: 'test', severity: 3 },
      clock.now(),
    );

  it('sends a reconnecting client the changes it missed, in order, then live', async () => {
    await start();
    const seen = record();
    const first = await openSse(base + STREAM);
    await first.until((e) => e.length > 0);
    expect(first.events[0]!.event).toBe('mark');
    open('a');
    await first.until((e) => changes(e).length === 1);
    const last = first.events.at(-1)!.id!;
    expect(last).toMatch(/^\d+$/);
    first.close();

    open('b');
    clock.advance(10 * 60_000);
    open('c');
    clock.advance(10 * 60_000); // past their quiet periods: they resolve
    const missed = seen.slice(1);
    expect(missed.filter((c) => c.startsWith('opened'))).toHaveLength(2);
    expect(missed.filter((c) => c.startsWith('resolved'))).toHaveLength(3);
    const again = await openSse(base + STREAM, last);
    await again.until((e) => changes(e).length === missed.length);
    expect(changes(again.events)).toEqual(missed);
    expect(again.of('reset')).toEqual([]);
    const d = open('d');
    await again.until((e) => changes(e).length === missed.length + 1);
    expect(changes(again.events).at(-1)).toBe(`opened ${d}`);
    again.close();

    // A client dropped before its first event resumes from the place it was given (by the URL).
    const mark = await startingPlace(base + STREAM);
    const e = open('e');
    const byUrl = await openSse(`${base}${STREAM}?last_event_id=${mark}`);
    await byUrl.until((ev) => changes(ev).length === 1);
    expect(changes(byUrl.events)).toEqual([`opened ${e}`]);
    byUrl.close();
  });

  it('says so with event: reset when the id is not one it keeps: unknown, evicted, or before a restart', async () => {
    await start();
    for (const id of ['garbage', '123']) {
      const s = await openSse(base + STREAM, id);
      await s.until((e) => e.length > 0);
      expect(s.events[0]).toMatchObject({
        event: 'reset',
        data: { reason: 'unknown_id', max_replay: MAX_INCIDENT_LOG },
      });
      expect(s.events[0]!.data.message).toMatch(/read \/api\/v1\/incidents/);
      s.close();
    }
    const mark = await startingPlace(base + STREAM);
    // More changes than are kept: the place is gone.
    const seen = record();
    for (let i = 0; seen.length <= MAX_INCIDENT_LOG; i++) {
      open(`s${i}`);
      clock.advance(10 * 60_000);
    }
    const evicted = await openSse(base + STREAM, mark);
    await evicted.until((e) => e.length > 0);
    expect(evicted.events[0]).toMatchObject({ event: 'reset', data: { reason: 'unknown_id' } });
    expect(changes(evicted.events)).toEqual([]);
    evicted.close();
    // The reset's id resumes from then.
    const after = await openSse(base + STREAM, evicted.events[0]!.id);
    const late = open('late');
    await after.until((e) => changes(e).length === 1);
    expect(changes(after.events)).toEqual([`opened ${late}`]);
    const last = after.events.at(-1)!.id!;
    after.close();

    // Changes are kept in memory only: after a restart the place is unknown (re-read the list).
    await f.sidecar!.shutdown();
    f.sidecar = undefined;
    clock.advance(1_000);
    await start();
    const restarted = await openSse(base + STREAM, last);
    await restarted.until((e) => e.length > 0);
    expect(restarted.events[0]).toMatchObject({ event: 'reset', data: { reason: 'unknown_id' } });
    restarted.close();
  });

  it('keeps at most its bound of JSON: the oldest changes go first', async () => {
    await start();
    const source = detectorOf(f.sidecar!).incidentSource!;
    let size = 0;
    const probe = source.subscribe((c) => (size = JSON.stringify(c.incident).length));
    open('probe');
    probe();
    // Room for about three changes of this size.
    const log = new IncidentLog(() => clock.now(), undefined, MAX_INCIDENT_LOG, size * 3.5);
    log.follow([{ id: 'anomaly', source }]);
    const server = http.createServer((req, res) => {
      const stream = new EventStream(res, clock, 15_000, () => unsubscribe());
      const unsubscribe = log.serve(stream, undefined, req.headers['last-event-id'] as string);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const first = await openSse(url);
      for (const s of ['p1', 'p2', 'p3', 'p4', 'p5']) open(s);
      await first.until((e) => changes(e).length === 5);
      first.close();
      const ids = first.events.filter((e) => e.event === 'incident').map((e) => e.id!);
      const gone = await openSse(url, ids[0]);
      await gone.until((e) => e.length > 0);
      expect(gone.events[0]).toMatchObject({ event: 'reset', data: { reason: 'unknown_id' } });
      gone.close();
      const kept = await openSse(url, ids[3]);
      await kept.until((e) => changes(e).length === 1);
      expect(changes(kept.events)).toEqual(changes(first.events).slice(4));
      kept.close();
    } finally {
      log.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
