import { writeFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import { MAX_REPLAY } from '../../src/admin/internal/anomaly-stream.js';
import type { Consumer } from '../../src/component/consumer.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { PG_PASSWORD } from '../helpers/postgres.js';
import { usePgCluster } from '../helpers/use-postgres.js';
import { useSidecarFixture } from '../helpers/sidecar-fixture.js';
import { detectorOf, startTestSidecar } from '../detectors/helpers/sidecar.js';
import {
  cartAtNine,
  cartDayBefore,
  MONDAY,
  traceRequest,
  type SpanSpec,
} from '../detectors/helpers/traces.js';
import { openSse, startingPlace, type SseEvent } from './sse-client.js';

const H = 3_600_000;
const STREAM = '/api/v1/anomalies/stream?min_severity=SEV2';

/** Baseline of GET /cart on Monday 09:00 (40 spans) and the day before: a 2.5 s span is SEV1. */
function learning(): SpanSpec[] {
  return [...cartAtNine(40), ...cartDayBefore()];
}

const anomalies = (events: readonly SseEvent[]) => events.filter((e) => e.event === 'anomaly');
const traceIds = (events: readonly SseEvent[]) => anomalies(events).map((e) => e.data.trace_id);

/** The two stores an anomaly history is kept in: a SQLite file, and a fleet's PostgreSQL. */
const STORES = [['SQLite', false] as const, ['PostgreSQL', true] as const];

describe.each(STORES)('resuming the anomaly stream (%s history)', (_name, postgres) => {
  const f = useSidecarFixture('hourglass-resume-');
  const pg = postgres ? usePgCluster() : undefined;
  let clock: FakeClock;
  let base: string;
  let entry: Consumer;
  let storage: Record<string, unknown>;
  let n = 0;

  beforeEach(() => {
    clock = new FakeClock(MONDAY + 12 * H);
    storage = { storage: f.path('hg.db') };
    if (pg) {
      writeFileSync(f.path('pg-password'), `${PG_PASSWORD}\n`);
      storage = {
        storage: pg.cluster().url(pg.database()),
        // A stable name (a StatefulSet pod's): restarted, it continues its own rows.
        postgres: { password_file: f.path('pg-password'), instance: 'hourglass-0' },
      };
    }
  });

  async function start(): Promise<void> {
    f.sidecar = await startTestSidecar({
      clock,
      // Latency only: a burst of slow spans is not also a traffic surge.
      anomaly: { ...storage, traffic: { enabled: false }, errors: { enabled: false } },
      factories: [f.capture.factory],
      extensions: { admin: { endpoint: '127.0.0.1:0' } },
    });
    base = `http://${f.sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    entry = f.sidecar.service.pipelineEntries.get('traces')!;
  }

  /**
   * Spans of new traces (trace ids returned in order): 2.5 s ones are SEV1, 135 ms ones SEV3. They
   * fail (status ERROR), so they are scored but not learned: each is judged by the same baseline.
   */
  async function send(...durations: number[]): Promise<string[]> {
    const list = durations.map((durationMs) => {
      n++;
      return {
        name: 'GET /cart',
        startMs: MONDAY + 9 * H,
        durationMs,
        status: 2,
        traceId: n.toString(16).padStart(32, '0'),
        spanId: n.toString(16).padStart(16, '0'),
      };
    });
    await entry.consume({ signal: 'traces', bytes: traceRequest(list), items: list.length });
    return list.map((s) => s.traceId);
  }

  /** The baseline: from then on a 2.5 s span is SEV1, a 135 ms one SEV3. */
  async function learn(): Promise<void> {
    const spans = learning();
    await entry.consume({ signal: 'traces', bytes: traceRequest(spans), items: spans.length });
  }

  /** Writes what is pending to the history (SQLite or PostgreSQL). */
  const flush = () => detectorOf(f.sidecar!).flushNow();

  it('sends a reconnecting client exactly what it missed that passes its filters, in order, then live', async () => {
    await start();
    await learn();
    await flush();
    const first = await openSse(base + STREAM);
    expect(first.status).toBe(200);
    // The stream says where it starts before any event.
    await first.until((e) => e.length > 0);
    expect(first.events[0]!.event).toBe('mark');
    const [seen] = await send(2500);
    await first.until((e) => anomalies(e).length === 1);
    expect(traceIds(first.events)).toEqual([seen]);
    const last = first.events.at(-1)!.id!;
    expect(last).toMatch(/^anomaly=\d+$/);
    first.close();

    // Missed: two SEV1 and a SEV3 (filtered out) written to the history, two more not written yet.
    const written = await send(2500, 135, 2500);
    await flush();
    const pending = await send(2500, 2500);
    const missed = [written[0], written[2], ...pending];

    const again = await openSse(base + STREAM, last);
    await again.until((e) => anomalies(e).length === 4);
    expect(traceIds(again.events)).toEqual(missed);
    expect(again.of('reset')).toEqual([]);
    const live = await send(2500);
    await again.until((e) => anomalies(e).length === 5);
    expect(traceIds(again.events)).toEqual([...missed, ...live]);
    // Each id is the place after its event: increasing, and the last resumes with nothing missed.
    const seqs = anomalies(again.events).map((e) => Number(e.id!.split('=')[1]));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(5);
    again.close();
    const third = await openSse(base + STREAM, again.events.at(-1)!.id);
    await send(135, 2500);
    await third.until((e) => anomalies(e).length === 1);
    expect(third.events.filter((e) => e.event !== 'mark')).toHaveLength(1);
    third.close();
  });

  it('resumes a client dropped before its first event from the place the stream gave it, by query parameter', async () => {
    await start();
    await learn();
    const mark = await startingPlace(base + STREAM);
    const missed = await send(2500, 2500);
    const again = await openSse(`${base}${STREAM}&last_event_id=${encodeURIComponent(mark)}`);
    await again.until((e) => anomalies(e).length === 2);
    expect(traceIds(again.events)).toEqual(missed);
    again.close();
    // The header, what an EventSource sends when it reconnects, wins over the URL's parameter.
    const byHeader = await openSse(
      `${base}${STREAM}&last_event_id=${encodeURIComponent(mark)}`,
      again.events.at(-1)!.id,
    );
    const live = await send(2500);
    await byHeader.until((e) => anomalies(e).length === 1);
    expect(traceIds(byHeader.events)).toEqual(live);
    byHeader.close();
  });

  it('resumes after a restart of the sidecar, from the stored history', async () => {
    await start();
    await learn();
    const first = await openSse(base + STREAM);
    await send(2500);
    await first.until((e) => anomalies(e).length === 1);
    const last = first.events.at(-1)!.id!;
    first.close();
    const missed = await send(2500, 2500);
    await f.sidecar!.shutdown();
    f.sidecar = undefined;
    clock.advance(60_000);
    await start();
    const again = await openSse(base + STREAM, last);
    await again.until((e) => anomalies(e).length === 2);
    expect(traceIds(again.events)).toEqual(missed);
    expect(again.of('reset')).toEqual([]);
    again.close();
    if (!postgres) return;
    // Another instance of the fleet (or one restarted under a new name) never sent that place: its
    // stream is of its own anomalies, and it says it cannot resume.
    await f.sidecar!.shutdown();
    storage = {
      ...storage,
      postgres: { ...(storage.postgres as object), instance: 'hourglass-1' },
    };
    await start();
    const elsewhere = await openSse(base + STREAM, last);
    await elsewhere.until((e) => e.length > 0);
    expect(elsewhere.events[0]).toMatchObject({ event: 'reset', data: { reason: 'unknown_id' } });
    elsewhere.close();
  });

  it('says so with event: reset when it cannot resume (an unknown id), then streams live', async () => {
    await start();
    await learn();
    for (const id of ['garbage', 'anomaly=123', 'anomaly%2Fother=1765180800000000']) {
      const s = await openSse(base + STREAM, id);
      await s.until((e) => e.length > 0);
      expect(s.events[0]).toMatchObject({
        event: 'reset',
        data: { reason: 'unknown_id', max_replay: MAX_REPLAY },
      });
      expect(s.events[0]!.data.message).toMatch(/read \/api\/v1\/anomalies/);
      const live = await send(2500);
      await s.until((e) => anomalies(e).length === 1);
      expect(traceIds(s.events)).toEqual(live);
      s.close();
    }
  });

  it(`replays at most ${MAX_REPLAY} anomalies: with more missed, a reset whose id resumes from now`, async () => {
    await start();
    await learn();
    const mark = await startingPlace(base + STREAM);
    await send(...Array.from({ length: MAX_REPLAY }, () => 2500));
    await flush();
    // Exactly the bound: all of them.
    const all = await openSse(base + STREAM, mark);
    await all.until((e) => anomalies(e).length === MAX_REPLAY);
    all.close();
    await send(2500);
    const over = await openSse(base + STREAM, mark);
    await over.until((e) => e.length > 0);
    expect(over.events[0]).toMatchObject({ event: 'reset', data: { reason: 'too_many' } });
    expect(anomalies(over.events)).toEqual([]);
    over.close();
    const after = await openSse(base + STREAM, over.events[0]!.id);
    const live = await send(2500);
    await after.until((e) => anomalies(e).length === 1);
    expect(traceIds(after.events)).toEqual(live);
    after.close();
  });
});
