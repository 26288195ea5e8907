import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../../../src/admin/admin-extension.js';
import type { Sidecar } from '../../../../src/main.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { metricValue } from '../../../helpers/self-metrics.js';
import { Capture } from '../../helpers/capture-exporter.js';
import { detectorOf, httpEndpoint, startTestSidecar } from '../../helpers/sidecar.js';
import { decodeSpans, type SpanSpec } from '../../helpers/traces.js';
import { checkoutTrace, H, learnHistory, MONDAY, postSpans } from './traffic.js';

/** Incidents end to end: OTLP requests to the real sidecar, its SQLite file, its admin API. */
describe('incidents', () => {
  let dir: string;
  let clock: FakeClock;
  let sidecar: Sidecar | undefined;
  let capture: Capture;
  let base: string;
  let otlp: string;
  /** Trace numbers of this test (durations depend on them): each test starts from 0. */
  let n = 0;

  beforeEach(() => {
    n = 0;
    dir = mkdtempSync(join(tmpdir(), 'hourglass-incidents-'));
    clock = new FakeClock(MONDAY + 12 * H);
  });
  afterEach(async () => {
    await sidecar?.shutdown();
    sidecar = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(incidents: Record<string, unknown> = {}) {
    capture = new Capture();
    sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: join(dir, 'hg.db'), incidents },
      factories: [capture.factory],
      extensions: { admin: { endpoint: '127.0.0.1:0', jaeger_ui_url: 'http://jaeger:16686' } },
    });
    base = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    otlp = httpEndpoint(sidecar);
  }

  const post = (spans: readonly SpanSpec[]) => postSpans(otlp, spans);

  async function learn(): Promise<void> {
    await learnHistory(otlp, 1_000_000);
    capture.clear();
  }

  /** `count` traces starting now, one per 100 ms, in one request. */
  async function traffic(count: number, shape: Parameters<typeof checkoutTrace>[2] = {}) {
    const now = clock.now();
    await post(
      Array.from({ length: count }, (_, i) => checkoutTrace(++n, now + i * 100, shape)).flat(),
    );
  }

  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  const forwarded = () => capture.batches.flatMap((b) => decodeSpans(b.bytes));

  it('opens one incident for a slow callee, tags every span of it, and names the callee as origin', async () => {
    await start();
    await learn();
    await traffic(20);
    expect(forwarded().filter((s) => s.attributes['anomaly.severity'])).toEqual([]);
    expect((await get('/api/v1/incidents')).body.incidents).toEqual([]);

    await traffic(5, { paymentsMs: 2_000 });
    clock.advance(2_000);
    await traffic(5, { paymentsMs: 2_500 });
    const tagged = forwarded().filter((s) => s.attributes['anomaly.severity']);
    expect(tagged.length).toBe(30); // every span of the ten slow traces
    const ids = new Set(tagged.map((s) => s.attributes['anomaly.incident_id']));
    expect(ids.size).toBe(1);
    const [id] = [...ids] as string[];
    expect(id).toMatch(/^inc-/);

    const { status, body } = await get('/api/v1/incidents?status=open');
    expect(status).toBe(200);
    expect(body.incidents).toHaveLength(1);
    const incident = body.incidents[0];
    expect(incident).toMatchObject({
      id,
      status: 'open',
      severity: 'SEV1',
      resolved_at: null,
      origin: { service: 'payments', operation: 'POST /charge', peer_service: null },
      services: expect.arrayContaining([
        { service: 'payments', count: 10 },
        { service: 'checkout', count: 20 },
      ]),
      operations: expect.arrayContaining([
        { service: 'checkout', operation: 'POST /checkout', count: 10 },
      ]),
      severity_timeline: [{ at: new Date(MONDAY + 12 * H).toISOString(), severity: 'SEV1' }],
      summary: null,
    });
    expect(incident.sample_traces.length).toBeGreaterThan(0);
    expect(incident.sample_traces[0].jaeger_url).toMatch(
      /^http:\/\/jaeger:16686\/trace\/[0-9a-f]{32}\?uiFind=[0-9a-f]{16}$/,
    );
    expect((await get(`/api/v1/incidents/${id}`)).body).toMatchObject({ id, status: 'open' });
    expect((await get('/api/v1/incidents/inc-nope')).status).toBe(404);

    const health = (await get('/api/v1/health')).body.services;
    expect(health).toEqual(
      expect.arrayContaining([
        { service: 'payments', status: 'critical', incidents: [id] },
        { service: 'checkout', status: 'critical', incidents: [id] },
      ]),
    );
    expect(await metricValue(sidecar!, 'hourglass_incidents_open', { severity: 'SEV1' })).toBe(1);
    expect(
      await metricValue(sidecar!, 'hourglass_anomaly_service_spans_tagged_total', {
        service: 'payments',
      }),
    ).toBe(10);
  });

  it('names the call edge when the time is lost between client and server (network delay)', async () => {
    await start();
    await learn();
    await traffic(10, { edgeMs: 1_500 });
    const { body } = await get('/api/v1/incidents');
    expect(body.incidents).toHaveLength(1);
    expect(body.incidents[0].origin).toEqual({
      service: 'checkout',
      operation: 'POST /charge',
      peer_service: 'payments',
    });
    // The server span was not slow: not tagged, not in the incident.
    const payments = forwarded().filter((s) => s.service === 'payments');
    expect(payments.every((s) => s.attributes['anomaly.severity'] === undefined)).toBe(true);
  });

  it('resolves after the quiet period; a later fault opens a new incident', async () => {
    await start({ quiet_period: '2m' });
    await learn();
    await traffic(5, { paymentsMs: 2_000 });
    const first = (await get('/api/v1/incidents')).body.incidents[0].id as string;
    clock.advance(60_000);
    await traffic(2, { paymentsMs: 2_000 }); // still the same fault: it stays open
    clock.advance(119_000);
    expect((await get(`/api/v1/incidents/${first}`)).body.status).toBe('open');
    clock.advance(2_000);
    const resolved = (await get(`/api/v1/incidents/${first}`)).body;
    expect(resolved).toMatchObject({ status: 'resolved', spans: 21 });
    expect(Date.parse(resolved.resolved_at)).toBe(MONDAY + 12 * H + 180_000);
    expect((await get('/api/v1/health')).body.services).toEqual(
      expect.arrayContaining([{ service: 'payments', status: 'ok', incidents: [] }]),
    );
    expect(await metricValue(sidecar!, 'hourglass_incidents_open')).toBe(0);

    await traffic(3, { paymentsMs: 2_000 });
    const list = (await get('/api/v1/incidents')).body.incidents;
    expect(list.map((i: { status: string }) => i.status)).toEqual(['open', 'resolved']);
    expect(list[0].id).not.toBe(first);
    expect((await get('/api/v1/incidents?status=resolved')).body.incidents).toHaveLength(1);
  });

  it('hold_while_slower: held past its quiet period while its origin has spans, across a restart; resolved once they are back to normal', async () => {
    await start({ quiet_period: '2m', hold_while_slower: 1.2 });
    await learn();
    await traffic(5, { paymentsMs: 2_000 });
    const id = (await get('/api/v1/incidents')).body.incidents[0].id as string;
    expect((await get(`/api/v1/incidents/${id}`)).body.origin.service).toBe('payments');
    // Normal spans (under their median: never tagged) after the fault, then past the quiet period.
    clock.advance(60_000);
    await traffic(1, { paymentsMs: 50 });
    clock.advance(61_000);
    expect((await get(`/api/v1/incidents/${id}`)).body).toMatchObject({
      status: 'open',
      resolution: null,
    });
    // A restart while it is held: the same incident carries on, neither resolved nor doubled.
    await sidecar!.shutdown();
    sidecar = undefined;
    clock.advance(1_000);
    await start({ quiet_period: '2m', hold_while_slower: 1.2 });
    expect(detectorOf(sidecar!).incidents!.levelOf!('payments', 'POST /charge')).toMatchObject({
      lastSpanAt: expect.any(Number) as number,
    });
    clock.advance(1_000);
    expect((await get(`/api/v1/incidents/${id}`)).body.status).toBe('open');
    // Four more readings of a normal level: five in all, their mean under 1.2x.
    for (let k = 0; k < 4; k++) {
      await traffic(1, { paymentsMs: 50 });
      clock.advance(5_000);
    }
    expect((await get(`/api/v1/incidents/${id}`)).body).toMatchObject({
      status: 'resolved',
      resolution: 'recovered',
    });
    expect((await get('/api/v1/incidents')).body.incidents).toHaveLength(1);
  });

  it('hold_while_slower: resolves at its quiet period when no span of its origin came after its last tag', async () => {
    await start({ quiet_period: '2m', hold_while_slower: 1.2 });
    await learn();
    await traffic(5, { paymentsMs: 2_000 });
    const id = (await get('/api/v1/incidents')).body.incidents[0].id as string;
    clock.advance(121_000);
    expect((await get(`/api/v1/incidents/${id}`)).body).toMatchObject({
      status: 'resolved',
      resolution: 'quiet',
    });
  });

  it('does not open an incident for a moderately slow span alone', async () => {
    await start();
    await learn();
    await traffic(1, { paymentsMs: 72 });
    const tagged = forwarded().filter((s) => s.attributes['anomaly.severity']);
    expect(tagged.map((s) => s.attributes['anomaly.severity']).sort()).toEqual([
      'SEV3',
      'SEV3',
      'SEV4',
    ]);
    expect(tagged.every((s) => s.attributes['anomaly.incident_id'] === undefined)).toBe(true);
    expect((await get('/api/v1/incidents')).body.incidents).toEqual([]);
  });

  it('survives a restart: the open incident carries on under its id, the resolved stay listed', async () => {
    await start();
    await learn();
    await traffic(5, { paymentsMs: 2_000 });
    const id = (await get('/api/v1/incidents')).body.incidents[0].id as string;
    await sidecar!.shutdown();
    sidecar = undefined;

    clock.advance(30_000);
    await start();
    expect((await get(`/api/v1/incidents/${id}`)).body).toMatchObject({
      status: 'open',
      spans: 15,
    });
    capture.clear();
    await traffic(2, { paymentsMs: 2_000 });
    const ids = new Set(forwarded().map((s) => s.attributes['anomaly.incident_id']));
    expect(ids).toEqual(new Set([id]));
    expect((await get(`/api/v1/incidents/${id}`)).body.spans).toBe(21);
    expect((await get('/api/v1/incidents')).body.incidents).toHaveLength(1);
  });

  it('streams changes as server-sent `event: incident`', async () => {
    await start();
    await learn();
    const ctl = new AbortController();
    const res = await fetch(`${base}/api/v1/incidents/stream`, { signal: ctl.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const text: string[] = [];
    const read = async (want: string) => {
      while (!text.join('').includes(want)) {
        const { value, done } = await reader.read();
        if (done) break;
        text.push(new TextDecoder().decode(value));
      }
    };
    await read(': connected');
    await traffic(3, { paymentsMs: 2_000 });
    await read('\n\n');
    await read('"change":"opened"');
    const event = text
      .join('')
      .split('\n\n')
      .find((e) => e.includes('event: incident'))!;
    const data = JSON.parse(
      event
        .split('\n')
        .find((l) => l.startsWith('data: '))!
        .slice(6),
    );
    expect(data).toMatchObject({ change: 'opened', status: 'open', severity: 'SEV1' });
    ctl.abort();
  });

  it('opens an incident without a span, for detectors that see what no span shows', async () => {
    await start();
    const engine = detectorOf(sidecar!).incidents!;
    const id = engine.openIncident(
      { service: 'cart', operation: 'POST /items', reason: 'traffic_drop', severity: 2 },
      clock.now(),
    );
    const again = engine.openIncident(
      { service: 'cart', operation: 'POST /items', reason: 'traffic_drop', severity: 2 },
      clock.now(),
    );
    expect(again).toBe(id);
    expect((await get(`/api/v1/incidents/${id}`)).body).toMatchObject({
      reason: 'traffic_drop',
      severity: 'SEV2',
      origin: { service: 'cart', operation: 'POST /items', peer_service: null },
    });
  });

  it('opens at most max_open incidents and counts the rest', async () => {
    await start({ max_open: 1 });
    const engine = detectorOf(sidecar!).incidents!;
    const open = (service: string) =>
      engine.openIncident({ service, operation: 'op', reason: 'test', severity: 1 }, clock.now());
    expect(open('a')).toBeDefined();
    expect(open('b')).toBeUndefined();
    expect(await metricValue(sidecar!, 'hourglass_incidents_refused_total')).toBe(1);
  });

  it('bounds the Prometheus service labels, counting the rest as other', async () => {
    await start({ max_metric_services: 1 });
    await learn();
    await traffic(5, { paymentsMs: 2_000 });
    const count = (service: string) =>
      metricValue(sidecar!, 'hourglass_anomaly_service_spans_tagged_total', { service });
    expect(await count('payments')).toBe(5);
    expect(await count('checkout')).toBe(0);
    expect(await count('other')).toBe(10);
  });

  it('takes the first summary of one of its traces', async () => {
    await start();
    await learn();
    await traffic(2, { paymentsMs: 2_000 });
    const span = forwarded().find((s) => s.service === 'payments')!;
    const detector = detectorOf(sidecar!);
    detector.attachSummary([`${span.traceId}-${span.spanId}`], 'payments is slow');
    detector.attachSummary([`${span.traceId}-${span.spanId}`], 'a later summary');
    const incident = (await get('/api/v1/incidents')).body.incidents[0];
    expect(incident.summary).toEqual({
      text: 'payments is slow',
      anomaly_id: `${span.traceId}-${span.spanId}`,
    });
  });

  it('keeps at most max_stored incidents in the database, resolved ones first to go', async () => {
    await start({ max_stored: 10, quiet_period: '1s' });
    const engine = detectorOf(sidecar!).incidents!;
    for (let i = 0; i < 15; i++) {
      engine.openIncident(
        { service: `s${i}`, operation: 'op', reason: 'test', severity: 3 },
        clock.now(),
      );
      clock.advance(2_000); // resolved
    }
    clock.advance(10_000); // a flush
    const open = engine.openIncident(
      { service: 'last', operation: 'op', reason: 'test', severity: 3 },
      clock.now(),
    );
    await sidecar!.shutdown();
    sidecar = undefined;
    const db = new Database(join(dir, 'hg.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT id, status FROM incidents').all() as {
        id: string;
        status: string;
      }[];
      expect(rows).toHaveLength(10);
      expect(rows.filter((r) => r.status === 'open').map((r) => r.id)).toEqual([open]);
    } finally {
      db.close();
    }
  });

  it('answers 404 on every incidents path when incidents are off, and 400 on a bad filter', async () => {
    await start({ enabled: false });
    for (const path of [
      '/api/v1/incidents',
      '/api/v1/incidents/x',
      '/api/v1/incidents/stream',
      '/api/v1/health',
    ]) {
      const { status, body } = await get(path);
      expect(status).toBe(404);
      expect(body.error).toMatch(/incidents are not enabled/);
    }
    await sidecar!.shutdown();
    sidecar = undefined;
    await start();
    expect(await get('/api/v1/incidents?status=closed')).toEqual({
      status: 400,
      body: { error: 'status: "closed" must be open or resolved' },
    });
  });

  it('a lone SEV1 trace keeps its SEV1 tags but opens no incident; with sev1_confirm_within 0s it opens one at once', async () => {
    await start();
    await learn();
    await traffic(20);
    await traffic(1, { paymentsMs: 3_000 });
    const tagged = forwarded().filter((s) => s.attributes['anomaly.severity']);
    expect(tagged.length).toBe(3);
    expect(tagged.map((s) => s.attributes['anomaly.severity'])).toContain('SEV1');
    expect(tagged.filter((s) => s.attributes['anomaly.incident_id'] !== undefined)).toEqual([]);
    // Nothing else within the minute (normal traffic only): still none, and none later.
    for (let k = 0; k < 4; k++) {
      clock.advance(20_000);
      await traffic(5);
    }
    clock.advance(10 * 60_000);
    await traffic(5);
    expect((await get('/api/v1/incidents')).body.incidents).toEqual([]);
    expect(await metricValue(sidecar!, 'hourglass_incidents_opened_total', {})).toBe(0);
    await sidecar!.shutdown();
    sidecar = undefined;

    await start({ sev1_confirm_within: '0s' });
    await learn();
    await traffic(1, { paymentsMs: 3_000 });
    const ids = new Set(
      forwarded()
        .filter((s) => s.attributes['anomaly.severity'])
        .map((s) => s.attributes['anomaly.incident_id']),
    );
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^inc-/);
  });
});
