import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../../../src/detectors/anomaly/contract.js';
import {
  IncidentEngine,
  quietPeriodOf,
} from '../../../../src/detectors/anomaly/incidents/engine.js';
import { incidentsSchema } from '../../../../src/detectors/anomaly/incidents/config.js';
import { IncidentMetrics } from '../../../../src/detectors/anomaly/incidents/incident-metrics.js';
import { indexSpans } from '../../../../src/otlp/trace-index.js';
import { SelfMetrics } from '../../../../src/telemetry/self-metrics.js';
import { traceRequest } from '../../helpers/traces.js';

const T0 = Date.UTC(2026, 0, 12, 12);

function engine(settings: Record<string, unknown> = {}): IncidentEngine {
  const config = incidentsSchema.parse(settings);
  return new IncidentEngine(
    config,
    new IncidentMetrics(new SelfMetrics({ processMetrics: false }), 'anomaly', 50),
  );
}

/**
 * One request holding one span of `payments POST /charge` (or `more`'s), tagged with `severity` /
 * `reason`.
 */
function tagged(
  n: number,
  severity: number,
  reason: string,
  more: {
    operation?: string;
    service?: string;
    durationMs?: number;
    meanMs?: number;
  } = {},
) {
  const { operation = 'POST /charge', service = 'payments', durationMs = 72, meanMs = 55 } = more;
  const traceId = n.toString(16).padStart(32, '0');
  const spanId = n.toString(16).padStart(16, '0');
  const bytes = traceRequest([
    { service, name: operation, startMs: T0 + n, durationMs, traceId, spanId },
  ]);
  const record = {
    id: `${traceId}-${spanId}`,
    traceId,
    spanId,
    service,
    operation,
    kind: 2,
    startMs: T0 + n,
    durationMs,
    severity,
    reason,
    meanMs,
  } as unknown as AnomalyRecord;
  return { index: indexSpans(bytes), tagged: [{ span: 0, record }] };
}

describe('incident engine', () => {
  it('opens on the fifth SEV3 tag of an operation within a minute, not before', () => {
    const e = engine();
    for (let n = 1; n <= 4; n++) {
      const t = tagged(n, 3, 'slow_span');
      expect(e.assign(t.index, t.tagged, T0 + n * 10_000)).toEqual([undefined]);
    }
    const t = tagged(5, 3, 'slow_span');
    const [id] = e.assign(t.index, t.tagged, T0 + 50_000);
    expect(id).toMatch(/^inc-/);
    expect(e.openIncidents()).toMatchObject([{ id, severity: 3, reason: 'slow_span' }]);
  });

  it('counts afresh after a minute: four tags, a pause, four more open nothing', () => {
    const e = engine();
    for (let n = 1; n <= 8; n++) {
      const t = tagged(n, 3, 'slow_span');
      const at = T0 + n * 10_000 + (n > 4 ? 60_000 : 0);
      expect(e.assign(t.index, t.tagged, at)).toEqual([undefined]);
    }
    expect(e.openIncidents()).toEqual([]);
  });

  it('opens at once on a slow operation at SEV3 with open_after 0s, on a SEV1 span with sev1_confirm_within 0s, at SEV2 with sev2_confirm_within 0s; never on SEV4', () => {
    const e = engine({ open_after: '0s' });
    const sev4 = tagged(1, 4, 'slow_operation');
    expect(e.assign(sev4.index, sev4.tagged, T0)).toEqual([undefined]);
    const level = tagged(2, 3, 'slow_operation');
    expect(e.assign(level.index, level.tagged, T0)[0]).toMatch(/^inc-/);
    const other = engine({ sev1_confirm_within: '0s' });
    const sev1 = tagged(3, 1, 'slow_span');
    expect(other.assign(sev1.index, sev1.tagged, T0)[0]).toMatch(/^inc-/);
    expect(other.openIncidents()).toMatchObject([{ severity: 1, spans: 1 }]);
    const sev2 = tagged(4, 2, 'slow_operation');
    const atOnce = engine({ sev2_confirm_within: '0s' });
    expect(atOnce.assign(sev2.index, sev2.tagged, T0)[0]).toMatch(/^inc-/);
  });

  it('sev1_confirm_within (1m): a lone SEV1 span opens nothing; another trace tagging its operation SEV3 or worse within the minute opens it at once, with both traces', () => {
    const e = engine();
    const changes: string[] = [];
    e.subscribe((c) =>
      changes.push(`${c.type} ${c.incident.severity} ${c.incident.openedAt - T0}`),
    );
    const at = (n: number, severity: number, ms: number) => {
      const t = tagged(n, severity, 'slow_span');
      e.tick(T0 + ms);
      return e.assign(t.index, t.tagged, T0 + ms)[0];
    };
    expect(at(1, 1, 0)).toBeUndefined(); // held: one trace
    expect(at(2, 4, 10_000)).toBeUndefined(); // SEV4 confirms nothing
    expect(changes).toEqual([]);
    expect(e.openIncidents()).toEqual([]);
    const id = at(3, 3, 59_000); // another trace, SEV3, 59 s later: opens then, not at the minute
    expect(id).toMatch(/^inc-/);
    expect(changes).toEqual(['opened 1 59000']);
    expect(e.openIncidents()).toMatchObject([
      {
        id,
        severity: 1,
        reason: 'slow_span',
        spans: 2,
        samples: [{ traceId: tagged(1, 1, '').tagged[0]!.record.traceId }, {}],
      },
    ]);
    // The held trace's later spans join it.
    expect(at(1, 4, 61_000)).toBe(id);
    // Nothing else within the minute: nothing opens, ever.
    const f = engine();
    const g = (n: number, severity: number, ms: number) => {
      const t = tagged(n, severity, 'slow_span');
      f.tick(T0 + ms);
      return f.assign(t.index, t.tagged, T0 + ms)[0];
    };
    expect(g(10, 1, 0)).toBeUndefined();
    expect(g(10, 2, 5_000)).toBeUndefined(); // the same trace confirms nothing
    expect(g(11, 3, 60_001)).toBeUndefined(); // too late: nothing is held any more
    f.tick(T0 + 3_600_000);
    expect(f.openIncidents()).toEqual([]);
    expect(f.ids()).toEqual([]);
    // Two SEV1 traces in one request: the second confirms the first at once.
    const h = engine();
    const one = tagged(20, 1, 'slow_span');
    const two = tagged(21, 1, 'slow_span');
    expect(h.assign(one.index, one.tagged, T0)).toEqual([undefined]);
    const [b] = h.assign(two.index, two.tagged, T0);
    expect(b).toMatch(/^inc-/);
    expect(h.openIncidents()).toMatchObject([{ id: b, severity: 1, spans: 2 }]);
  });

  it('opens on a SEV3 slow operation only once it has been slow for open_after (1m)', () => {
    const e = engine();
    const at = (n: number, ms: number) => {
      const t = tagged(n, 3, 'slow_operation');
      return e.assign(t.index, t.tagged, T0 + ms)[0];
    };
    // A blip: one slow span, then the next over a minute later starts afresh.
    expect(at(1, 0)).toBeUndefined();
    expect(at(2, 61_000)).toBeUndefined();
    // Slow since 61 s: 40 s and 80 s later are within a minute of the last tag.
    expect(at(3, 101_000)).toBeUndefined();
    const id = at(4, 121_000);
    expect(id).toMatch(/^inc-/);
    expect(e.openIncidents()).toMatchObject([{ id, severity: 3, reason: 'slow_operation' }]);
    // A SEV2 tag (of a span alone: it opens nothing) starts the run too.
    const f = engine();
    const sev2 = tagged(5, 2, 'slow_span');
    expect(f.assign(sev2.index, sev2.tagged, T0)).toEqual([undefined]);
    const level = tagged(6, 3, 'slow_operation');
    expect(f.assign(level.index, level.tagged, T0 + 60_000)[0]).toMatch(/^inc-/);
    // The run ends after a minute without a tag: the tag after it starts afresh.
    const g = engine();
    for (const [n, ms] of [
      [7, 0],
      [8, 59_000],
      [9, 119_001],
    ] as const) {
      const t = tagged(n, 3, 'slow_operation');
      g.tick(T0 + ms);
      expect(g.assign(t.index, t.tagged, T0 + ms)).toEqual([undefined]);
    }
  });

  it('quiet_growth: an incident that has lasted long needs a longer quiet to resolve, a short one resolves after quiet_period', () => {
    // Lone SEV1 spans, each opening (or joining) at once.
    const e = engine({ quiet_growth: 0.25, max_quiet_period: '1h', sev1_confirm_within: '0s' });
    const M = 60_000;
    const at = (n: number, ms: number) => {
      const t = tagged(n, 1, 'slow_span');
      e.tick(T0 + ms);
      return e.assign(t.index, t.tagged, T0 + ms)[0];
    };
    // A slowdown tagged every 4 minutes for 80 minutes: its quiet grew to 20 minutes.
    const long = at(1, 0);
    for (let k = 1; k <= 20; k++) expect(at(1 + k, k * 4 * M)).toBe(long);
    e.tick(T0 + 80 * M + 20 * M - 1);
    expect(e.openIncidents().map((v) => v.id)).toEqual([long]);
    e.tick(T0 + 100 * M);
    expect(e.openIncidents()).toEqual([]);
    // A blip: one span, resolved after quiet_period (5 minutes) as before.
    const short = at(30, 200 * M);
    expect(short).not.toBe(long);
    e.tick(T0 + 205 * M - 1);
    expect(e.openIncidents().map((v) => v.id)).toEqual([short]);
    e.tick(T0 + 205 * M);
    expect(e.openIncidents()).toEqual([]);
    // The quiet is capped at max_quiet_period: 0.25 x 400 minutes would be 100.
    const capped = at(40, 300 * M);
    for (let k = 1; k <= 100; k++) expect(at(40 + k, (300 + k * 4) * M)).toBe(capped);
    e.tick(T0 + 700 * M + 60 * M - 1);
    expect(e.openIncidents().map((v) => v.id)).toEqual([capped]);
    e.tick(T0 + 760 * M);
    expect(e.openIncidents()).toEqual([]);
    // Tags milder than SEV3 keep it open for quiet_period, but do not make its quiet grow.
    const mild = at(200, 1000 * M);
    const sev5 = (n: number, ms: number) => {
      const t = tagged(n, 5, 'slow_span');
      e.tick(T0 + ms);
      return e.assign(t.index, t.tagged, T0 + ms)[0];
    };
    for (let k = 1; k <= 20; k++) expect(sev5(200 + k, (1000 + k * 4) * M)).toBe(mild);
    e.tick(T0 + 1085 * M - 1);
    expect(e.openIncidents().map((v) => v.id)).toEqual([mild]);
    e.tick(T0 + 1085 * M);
    expect(e.openIncidents()).toEqual([]);
    const cfg = incidentsSchema.parse({ quiet_growth: 0.5, max_quiet_period: '30m' });
    expect(quietPeriodOf(cfg, { openedAt: 0, lastSeen: 4 * M })).toBe(5 * M);
    expect(quietPeriodOf(cfg, { openedAt: 0, lastSeen: 40 * M })).toBe(20 * M);
    expect(quietPeriodOf(cfg, { openedAt: 0, lastSeen: 400 * M })).toBe(30 * M);
    expect(
      quietPeriodOf(incidentsSchema.parse({ quiet_growth: 0 }), { openedAt: 0, lastSeen: 400 * M }),
    ).toBe(5 * M);
  });

  it('sev2_confirm_within (5m): a lone SEV2 slow operation waits for a second trace tagging its operation SEV3 or worse', () => {
    const M = 60_000;
    const e = engine();
    const at = (n: number, severity: number, reason: string, ms: number) => {
      const t = tagged(n, severity, reason);
      e.tick(T0 + ms);
      return e.assign(t.index, t.tagged, T0 + ms)[0];
    };
    expect(at(1, 2, 'slow_operation', 0)).toBeUndefined(); // held: one trace
    expect(at(2, 4, 'slow_span', 2 * M)).toBeUndefined(); // SEV4 confirms nothing
    const id = at(3, 3, 'slow_span', 4 * M); // another trace, SEV3, within five minutes
    expect(id).toMatch(/^inc-/);
    expect(e.openIncidents()).toMatchObject([
      { id, severity: 2, reason: 'slow_operation', openedAt: T0 + 4 * M, spans: 2 },
    ]);
    // Nothing else within five minutes: nothing opens.
    const f = engine();
    const lone = tagged(10, 2, 'slow_operation');
    expect(f.assign(lone.index, lone.tagged, T0)).toEqual([undefined]);
    f.tick(T0 + 5 * M + 1);
    const late = tagged(11, 3, 'slow_span');
    expect(f.assign(late.index, late.tagged, T0 + 5 * M + 1)).toEqual([undefined]);
    expect(f.openIncidents()).toEqual([]);
    // 0s: at once.
    const g = engine({ sev2_confirm_within: '0s' });
    const now = tagged(12, 2, 'slow_operation');
    expect(g.assign(now.index, now.tagged, T0)[0]).toMatch(/^inc-/);
  });

  it('blame_severity: a trace whose origin is tagged milder blames it with a token weight only', () => {
    // An incident of `payments POST /charge` (SEV2, 100-400 ms lost per trace), and one trace
    // whose origin is the gateway's root, tagged SEV5 with 3.5 s beyond its mean over all routes.
    const origin = (settings: Record<string, unknown>) => {
      const e = engine({ sev1_confirm_within: '0s', ...settings });
      const first = tagged(1, 1, 'slow_span', { durationMs: 400, meanMs: 10 });
      e.assign(first.index, first.tagged, T0);
      for (let n = 2; n <= 4; n++) {
        const t = tagged(n, 2, 'slow_span', { durationMs: 110, meanMs: 10 });
        e.assign(t.index, t.tagged, T0 + n * 1_000);
      }
      const root = { service: 'gateway', operation: 'handle', durationMs: 3_900, meanMs: 400 };
      const g = tagged(1, 5, 'slow_span', root); // trace 1's root, in a later request
      e.assign(g.index, g.tagged, T0 + 5_000);
      expect(e.openIncidents()).toMatchObject([{ spans: 5 }]);
      return e.openIncidents()[0]!.origin;
    };
    expect(origin({})).toMatchObject({ service: 'gateway', operation: 'handle' });
    expect(origin({ blame_severity: 'SEV3' })).toMatchObject({
      service: 'payments',
      operation: 'POST /charge',
    });
  });

  it('keep_open_elsewhere: milder tags of another operation join an open incident but do not keep it open; those of its origin do', () => {
    const M = 60_000;
    /** A SEV1 span opens it at 0; SEV5 tags of `operation` every 4 minutes to 60. */
    const run = (elsewhere: string, operation: string) => {
      const e = engine({ keep_open_elsewhere: elsewhere, sev1_confirm_within: '0s' });
      const at = (n: number, severity: number, ms: number, op = 'POST /charge') => {
        const t = tagged(n, severity, 'slow_span', { operation: op });
        e.tick(T0 + ms);
        return e.assign(t.index, t.tagged, T0 + ms)[0];
      };
      let resolved = Number.NaN;
      e.subscribe((c) => {
        if (c.type === 'resolved') resolved = (c.incident.resolvedAt! - T0) / M;
      });
      const id = at(1, 1, 0);
      let joined = 0;
      for (let k = 1; k <= 15; k++) if (at(1 + k, 5, k * 4 * M, operation) === id) joined++;
      for (let m = 60; m <= 120; m++) e.tick(T0 + m * M);
      return { joined, resolved };
    };
    // Another operation's SEV5 tags: the first joins (and carries the id), but the incident
    // resolves five minutes after the SEV1 span; by default (SEV5) they keep it open to 65.
    // (the engine resolves on its ticks: here every 4 minutes, so at 8)
    expect(run('SEV3', 'GET /status')).toEqual({ joined: 1, resolved: 8 });
    expect(run('SEV5', 'GET /status')).toEqual({ joined: 15, resolved: 65 });
    // The origin's own SEV5 tags keep it open either way.
    expect(run('SEV3', 'POST /charge')).toEqual({ joined: 15, resolved: 65 });
  });

  it('keep_open_severity: milder tags join an open incident but do not keep it open', () => {
    const e = engine({ keep_open_severity: 'SEV3', sev1_confirm_within: '0s' });
    const M = 60_000;
    const at = (n: number, severity: number, ms: number) => {
      const t = tagged(n, severity, 'slow_span');
      e.tick(T0 + ms);
      return e.assign(t.index, t.tagged, T0 + ms)[0];
    };
    const id = at(1, 1, 0);
    expect(at(2, 5, 2 * M)).toBe(id); // SEV5: joins, carries the id
    expect(at(3, 4, 4 * M)).toBe(id);
    e.tick(T0 + 5 * M - 1);
    expect(e.openIncidents()).toMatchObject([{ id, spans: 3 }]);
    e.tick(T0 + 5 * M); // five minutes after the SEV1 span, whatever came after it
    expect(e.openIncidents()).toEqual([]);
    // By default (SEV5) every tag keeps it open.
    const f = engine({ sev1_confirm_within: '0s' });
    const first = tagged(4, 1, 'slow_span');
    const [other] = f.assign(first.index, first.tagged, T0);
    const mild = tagged(5, 5, 'slow_span');
    expect(f.assign(mild.index, mild.tagged, T0 + 4 * M)).toEqual([other]);
    f.tick(T0 + 8 * M);
    expect(f.openIncidents().map((v) => v.id)).toEqual([other]);
  });

  it('reopens a resolved incident when its origin comes back within reopen_within, under its id', () => {
    // Without growth: a reopened incident's length counts from its first opening.
    const e = engine({ reopen_within: '30m', quiet_growth: 0, sev1_confirm_within: '0s' });
    const changes: string[] = [];
    e.subscribe((c) => changes.push(`${c.type} ${c.incident.id} ${c.incident.status}`));
    const at = (n: number, ms: number) => {
      const t = tagged(n, 1, 'slow_span');
      e.tick(T0 + ms);
      return e.assign(t.index, t.tagged, T0 + ms)[0];
    };
    const id = at(1, 0);
    e.tick(T0 + 5 * 60_000); // quiet for five minutes: resolved
    expect(e.openIncidents()).toEqual([]);
    expect(at(2, 20 * 60_000)).toBe(id); // 15 minutes after it resolved
    expect(e.openIncidents()).toMatchObject([{ id, status: 'open', resolvedAt: null, spans: 2 }]);
    e.tick(T0 + 25 * 60_000);
    // Resolved at 25 min: 31 minutes later is beyond the hold, a new incident opens.
    const later = at(3, 56 * 60_000);
    expect(later).toMatch(/^inc-/);
    expect(later).not.toBe(id);
    expect(changes.filter((c) => !c.startsWith('updated'))).toEqual([
      `opened ${id} open`,
      `resolved ${id} resolved`,
      `reopened ${id} open`,
      `resolved ${id} resolved`,
      `opened ${later} open`,
    ]);
    // Without the hold (the default, 0s) the same origin opens a new incident.
    const f = engine({ sev1_confirm_within: '0s' });
    const first = tagged(4, 1, 'slow_span');
    const a = f.assign(first.index, first.tagged, T0)[0];
    f.tick(T0 + 5 * 60_000);
    const again = tagged(5, 1, 'slow_span');
    expect(f.assign(again.index, again.tagged, T0 + 6 * 60_000)[0]).not.toBe(a);
  });
});
