import { beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import type { Consumer } from '../../src/component/consumer.js';
import { Capture } from '../detectors/helpers/capture-exporter.js';
import { startTestSidecar } from '../detectors/helpers/sidecar.js';
import { traceRequest, type SpanSpec } from '../detectors/helpers/traces.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { useSidecarFixture } from '../helpers/sidecar-fixture.js';

const MONDAY = Date.UTC(2026, 0, 12);
const H = 3_600_000;
const M = 60_000;

/** 40 ordinary spans of checkout's GET /cart on Monday 09:00-09:40: a baseline. */
function baseline(service = 'checkout'): SpanSpec[] {
  return Array.from({ length: 40 }, (_, i) => ({
    service,
    name: 'GET /cart',
    startMs: MONDAY + 9 * H + i * M,
    durationMs: 90 + (i % 21),
  }));
}

const slow = (service: string, startMs: number, durationMs = 3000): SpanSpec => ({
  service,
  name: 'GET /cart',
  startMs,
  durationMs,
});

describe('admin API: GET /api/v1/anomalies/counts', () => {
  const f = useSidecarFixture('hourglass-counts-');
  let clock: FakeClock;
  let base: string;
  let entry: Consumer;

  beforeEach(async () => {
    clock = new FakeClock(MONDAY + 12 * H);
    f.sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: f.path('hg.db') },
      factories: [new Capture().factory],
      extensions: { admin: { endpoint: '127.0.0.1:0' } },
    });
    base = `http://${f.sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    entry = f.sidecar.service.pipelineEntries.get('traces')!;
    const list = [...baseline(), ...baseline('payments')];
    await entry.consume({ signal: 'traces', bytes: traceRequest(list), items: list.length });
  });

  async function send(list: SpanSpec[]) {
    await entry.consume({ signal: 'traces', bytes: traceRequest(list), items: list.length });
  }
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('counts tagged spans per service and step, stored and not yet written alike', async () => {
    // Two slow spans of checkout at 11:02 and 11:25, one of payments at 08:55 (before the last
    // 3 hours, which start at 09:00:10).
    await send([
      slow('checkout', MONDAY + 11 * H + 2 * M),
      slow('payments', MONDAY + 8 * H + 55 * M),
    ]);
    clock.advance(10_000); // flushed to SQLite
    await send([slow('checkout', MONDAY + 11 * H + 25 * M)]); // still in memory
    const { status, body } = await get('/api/v1/anomalies/counts?since=3h&step=10m');
    expect(status).toBe(200);
    expect(body.since).toBe(new Date(MONDAY + 9 * H + 10_000).toISOString());
    expect(body.until).toBe(new Date(MONDAY + 12 * H + 10_000).toISOString());
    expect(body.step_ms).toBe(600_000);
    const byService = Object.fromEntries(
      (body.services as { service: string }[]).map((s) => [s.service, s]),
    );
    expect(Object.keys(byService)).toEqual(['checkout']);
    const checkout = byService['checkout'] as Record<string, any>;
    // The severities are the history's (the detection model decides them, not this endpoint).
    const history = await get(
      `/api/v1/anomalies?service=checkout&since=${MONDAY + 9 * H + 10_000}`,
    );
    const severities = { SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0, SEV5: 0 } as Record<string, number>;
    for (const a of history.body.anomalies as { severity: string }[]) severities[a.severity]!++;
    expect(checkout).toMatchObject({ processor: 'anomaly', total: 2, by_severity: severities });
    expect(checkout.counts).toHaveLength(18);
    // Steps start at since (09:00:10): 11:02 is in step 12 (11:00:10-11:10:10), 11:25 in step 14.
    const expected = new Array<number>(18).fill(0);
    expected[12] = 1;
    expected[14] = 1;
    expect(checkout.counts).toEqual(expected);
    // By default the last 6 hours in 10-minute steps; service and min_severity filter.
    const all = await get('/api/v1/anomalies/counts?service=payments');
    expect(all.body.services).toEqual([
      expect.objectContaining({ service: 'payments', total: 1, counts: expect.any(Array) }),
    ]);
    expect(all.body.services[0].counts).toHaveLength(36);
    const none = await get('/api/v1/anomalies/counts?min_severity=SEV1&service=nobody');
    expect(none.body.services).toEqual([]);
  });

  it.each([
    ['step=0s', 'step: "0s" is not a duration; use a positive one such as 10m or 1h'],
    ['step=often', 'step: "often" is not a duration; use a positive one such as 10m or 1h'],
    [
      'since=720h&step=1m',
      'step: 43200 steps from since to now; at most 1000 (use a longer step or a later since)',
    ],
    [`since=${MONDAY + 13 * H}`, 'since: must be before now'],
    ['min_severity=SEV0', 'min_severity: "SEV0" is not a severity; use SEV1 .. SEV5'],
  ])('answers 400 to %s', async (query, error) => {
    expect(await get(`/api/v1/anomalies/counts?${query}`)).toEqual({
      status: 400,
      body: { error },
    });
  });
});
