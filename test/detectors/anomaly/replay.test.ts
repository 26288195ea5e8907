import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { anomalyProcessorSchema } from '../../../src/detectors/anomaly/config.js';
import { readFaultList } from '../../../src/detectors/anomaly/replay/faults.js';
import type { IncidentScoring } from '../../../src/detectors/anomaly/replay/incident-score.js';
import { replay, type IncidentVariantRun } from '../../../src/detectors/anomaly/replay/replay.js';
import { scoreReplay } from '../../../src/detectors/anomaly/replay/score.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { protoToJson } from '../../../src/otlp/json-encode.js';
import { hourglass } from '../helpers/cli.js';
import { memoryLogger } from '../helpers/sidecar.js';
import { Random } from '../helpers/random.js';
import {
  CART,
  nezhaTraffic as traffic,
  writeFaultList,
  writeNezhaCsv as writeCsv,
} from '../helpers/nezha-csv.js';
import { traceRequest, type SpanSpec } from '../helpers/traces.js';

const MIN = 60_000;
const H = 60 * MIN;
/** Monday 2026-01-05 09:00 UTC: the judged traffic; its history is the Monday before. */
const JUDGED = Date.UTC(2026, 0, 5, 9);
const WEEK = 7 * 24 * H;

interface ReplayJson {
  replay: { spans: number; history: { learned: number; judged: number } | undefined };
  tags: {
    spans: number;
    bySeverity: number[];
    runs: { service: string; operation: string; tags: number; bySeverity: number[] }[];
  };
  notes: string[];
  incidents: { id: string }[];
  scoring?: {
    incidents: IncidentScoring;
    spans: {
      positive: number;
      negative: number;
      leftOut: { near: number; pod: number; callers: number };
    };
    hourglass: {
      cuts: { recall: number; precision: number; tp: number; fp: number }[];
      negativeShares: number[];
    };
    tenfold: {
      classes: Record<
        string,
        { positives: number; positivesTagged: number; negatives: number; negativesTagged: number }
      >;
    };
    sigma: { name: string; recall: number }[];
    ewma: { name: string }[];
    atHourglassRate: { k: number; ruleRecall: number; hourglassRecall: number };
    faults: {
      pod: string;
      type: string;
      positives: number;
      firstTagS: (number | null)[];
      recall: number[];
    }[];
  };
}

describe('hourglass replay', () => {
  let dir: string;
  let config: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-replay-'));
    config = join(dir, 'otel-config.yaml');
    // The sidecar's config: replay reads the anomaly processor's settings, never its database.
    writeFileSync(
      config,
      stringify({
        receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
        processors: { anomaly: { storage: join(dir, 'live.db') } },
        exporters: { debug: {} },
        service: {
          pipelines: {
            traces: { receivers: ['otlp'], processors: ['anomaly'], exporters: ['debug'] },
          },
        },
      }),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** History: an hour a week before; judged: 10 minutes, cart 40x slower from minute 5 to 9. */
  function dataset() {
    const r = new Random(7);
    const injected = JUDGED + 5 * MIN;
    const history = writeCsv(join(dir, 'history.csv.gz'), traffic(JUDGED - WEEK, 3600, r));
    const judged = writeCsv(
      join(dir, '09_05_trace.csv'),
      traffic(JUDGED, 600, r, (t) => (t >= injected && t < injected + 4 * MIN ? 40 : 1)),
    );
    const faults = writeFaultList(join(dir, 'fault_list.json'), [
      { at: injected, pod: CART, type: 'cpu_contention' },
    ]);
    return { history, judged, faults, injected };
  }

  it('plays the Nezha CSV through the processor after its history and scores it against the faults', async () => {
    const { history, judged, faults } = dataset();
    const args = [
      'replay',
      '--config',
      config,
      judged,
      '--history',
      history,
      '--faults',
      faults,
      '--json',
    ];
    const run = await hourglass(...args);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out) as ReplayJson;
    expect(report.replay.spans).toBe(2400);
    expect(report.replay.history).toMatchObject({ learned: 14400, judged: 0 });
    // Only what the slowdown touched is tagged: cart's spans and its callers' (the same requests
    // carry checkout's ListOrders, which is never tagged: verdicts are read back span by span).
    const tagged = new Set(report.tags.runs.map((r) => `${r.service} ${r.operation}`));
    expect(tagged.has('cartservice GetCart')).toBe(true);
    // ListOrders, in the same requests, is tagged at its calibrated rate at most (SEV4/5 only).
    for (const run of report.tags.runs.filter((x) => x.operation === 'ListOrders')) {
      expect(run.bySeverity.slice(1, 4)).toEqual([0, 0, 0]);
    }
    const s = report.scoring!;
    // Positives: cart's 240 spans of the four minutes. Left out: cart's spans in the minute after
    // (the fault may linger), and every span up the trace from cart's (its callers wait for it).
    expect(s.spans.positive).toBe(240);
    expect(s.spans.leftOut).toEqual({ near: 0, pod: 60, callers: 600 });
    expect(s.spans.negative).toBe(2400 - 240 - 60 - 600);
    const sev3 = s.hourglass.cuts[2]!;
    expect(sev3.recall).toBeGreaterThan(0.95);
    expect(sev3.precision).toBe(1);
    // Where F1 is won and lost, by the 10x figure's classes: cart's 40x spans are required until
    // the key's history (3,600 spans, then the judged ones) shows them once in a thousand (the
    // first four), then usual; the classes add up to the cut's counts.
    const classes = Object.values(s.tenfold.classes);
    const sum = (f: (v: (typeof classes)[number]) => number) =>
      classes.reduce((n, v) => n + f(v), 0);
    expect(s.tenfold.classes.required).toMatchObject({ positives: 4, negatives: 0 });
    expect(s.tenfold.classes.usual).toMatchObject({ positives: 236, negatives: 0 });
    expect(s.tenfold.classes.under?.positivesTagged).toBe(0);
    expect(s.tenfold.classes.under?.negativesTagged).toBe(0);
    expect(
      s.tenfold.classes.required!.positivesTagged + s.tenfold.classes.usual!.positivesTagged,
    ).toBe(sev3.tp);
    expect(sum((v) => v.positives)).toBe(s.spans.positive);
    expect(sum((v) => v.negatives)).toBe(s.spans.negative);
    expect(sum((v) => v.positivesTagged)).toBe(sev3.tp);
    expect(sum((v) => v.negativesTagged)).toBe(sev3.fp);
    expect(s.faults).toHaveLength(1);
    expect(s.faults[0]).toMatchObject({ pod: CART, type: 'cpu_contention', positives: 240 });
    expect(s.faults[0]!.firstTagS[1]).toBeLessThanOrEqual(2); // SEV<=2 on the first slow span
    expect(s.sigma.map((r) => r.name)).toEqual([3, 4, 5, 6, 8].map((k) => `mean + ${k} sigma`));
    expect(s.ewma).toHaveLength(2);
    // One incident for the fault, opened within seconds of its first slow span, named after cart.
    expect(report.incidents.length).toBeGreaterThan(0);
    expect(s.incidents).toMatchObject({ latencyFaults: 1, detected: 1, perDetectedFault: 1 });
    expect(s.incidents.faults[0]).toMatchObject({ service: 'cartservice', originCorrect: true });
    expect(s.incidents.faults[0]!.toIncidentS).toBeLessThanOrEqual(5);
    // Its notification (the `opened` event) is reported per fault, at or after the opening.
    const f = s.incidents.faults[0]!;
    expect(f.toNotificationS).not.toBeNull();
    expect(f.toNotificationS!).toBeGreaterThanOrEqual(f.toIncidentS!);
    expect(f.toNotificationS!).toBeLessThanOrEqual(5);
    expect(s.incidents.medianToNotificationS).toBe(f.toNotificationS);
    // The incidents matching no fault are classified, every one once; the text form says so.
    const kinds = s.incidents.unmatchedKinds.counts;
    expect(Object.values(kinds).reduce((a, b) => a + b, 0)).toBe(s.incidents.unmatched);
    const text = await hourglass(...args.filter((a) => a !== '--json'));
    expect(text.code).toBe(0);
    expect(text.out).toContain(
      `Matching no fault, classified (unmatched.ts): ${kinds.other_fault} a non-latency fault's`,
    );
    // Deterministic: the spans' own times drive the clock; a second run says the same.
    expect((await hourglass(...args)).out).toBe(run.out);
  });

  it('--compare with --faults: the headline figures of both configs side by side', async () => {
    const { history, judged, faults } = dataset();
    // A span must be a minute slower than its median to be tagged: cart's 40x spans are not.
    const other = join(dir, 'minute-slower.yaml');
    writeFileSync(other, stringify({ processors: { anomaly: { min_delta_ms: 60_000 } } }));
    const args = ['replay', '--config', config, judged, '--history', history, '--faults', faults];
    const json = await hourglass(...args, '--compare', other, '--json');
    expect(json.err).toBe('');
    expect(json.code).toBe(0);
    type Scoring = NonNullable<ReplayJson['scoring']>;
    const report = JSON.parse(json.out) as ReplayJson & { compare: { scoring: Scoring } };
    const [mine, theirs] = [report.scoring!, report.compare.scoring];
    expect(mine.hourglass.cuts[2]!.recall).toBeGreaterThan(0.95);
    expect(theirs.hourglass.cuts[2]!.recall).toBe(0);
    const text = await hourglass(...args, '--compare', other);
    expect(text.code).toBe(0);
    const f3 = (x: number) => x.toFixed(3);
    for (const [name, of] of [
      ['precision at SEV<=3', (x: Scoring) => f3(x.hourglass.cuts[2]!.precision)],
      ['recall at SEV<=3', (x: Scoring) => f3(x.hourglass.cuts[2]!.recall)],
      [
        'latency faults with an incident',
        (x: Scoring) => `${x.incidents.detected} of ${x.incidents.latencyFaults}`,
      ],
    ] as const) {
      expect(text.out).toContain(`| ${name} | ${of(mine)} | ${of(theirs)} |`);
    }
    expect(text.out).toContain('| figure | otel-config.yaml | minute-slower.yaml |');
  });

  it("runs other incident settings beside the processor's on the same tags (incidentVariants)", async () => {
    const { history, judged, faults } = dataset();
    const run = await replay({
      config: anomalyProcessorSchema.parse({}),
      files: [judged],
      history: [history],
      incidentVariants: {
        same: {},
        literal: { sev1_confirm_within: '0s' },
        quick: { quiet_period: '1s', quiet_growth: 0 },
      },
    });
    expect(run.variants.map((v) => v.name)).toEqual(['same', 'literal', 'quick']);
    const [same, literal, quick] = run.variants;
    // Fed the very spans the processor's engine is fed, at the same times: the same incidents.
    expect(same!.incidents).toEqual(run.incidents);
    expect([...same!.notifiedAt]).toEqual([...run.notifiedAt]);
    expect(run.incidents.length).toBeGreaterThan(0);
    // Each tagged span's `anomaly.incident_id`, by its place in the table: only tagged spans
    // carry one, of an incident the run lists; the same for a variant with the same settings.
    expect(run.spanIncident.size).toBeGreaterThan(0);
    const listed = new Set(run.incidents.map((v) => v.id));
    for (const [i, id] of run.spanIncident) {
      expect(run.severity[i]).toBeGreaterThan(0);
      expect(listed.has(id)).toBe(true);
    }
    expect([...same!.spanIncident]).toEqual([...run.spanIncident]);
    // Opening on the first SEV1 span (not waiting for a second trace) finds the same one fault.
    const { faults: list } = readFaultList(faults);
    const scored = (v: IncidentVariantRun) => scoreReplay({ ...run, ...v }, list).incidents;
    expect(scored(literal!)).toMatchObject({ detected: 1, perDetectedFault: 1 });
    // Its tagged positives carry that incident, whose origin names cart.
    expect(scored(literal!).faults[0]!.carried).toMatchObject({
      id: scored(literal!).faults[0]!.ids[0],
      originCorrect: true,
    });
    expect(scored(literal!).faults[0]!.toNotificationS!).toBeLessThanOrEqual(5);
    // Settings that differ give other incidents: with a 1 s quiet it resolves a second after the
    // fault's last slow span, while the processor's (5 minutes) is still open at the files' end.
    expect(run.incidents.map((v) => v.resolvedAt)).toEqual([null]);
    expect(quick!.incidents).toHaveLength(1);
    expect(quick!.incidents[0]!.resolvedAt).toBeGreaterThan(JUDGED + 9 * MIN);
    expect(quick!.incidents[0]!.resolvedAt).toBeLessThan(JUDGED + 9 * MIN + 5_000);
  });

  it('restarts the sidecar every restartEveryMs of replay time, on the same database', async () => {
    const { history, judged } = dataset();
    const settings = {
      config: anomalyProcessorSchema.parse({}),
      files: [judged],
      history: [history],
    };
    const once = await replay(settings);
    const log = memoryLogger();
    const restarted = await replay({ ...settings, restartEveryMs: 3 * MIN, logger: log.logger });
    // 10 minutes: started at the first span, then at 3, 6 and 9 minutes.
    expect(log.lines.filter((l) => l['msg'] === 'anomaly detection started')).toHaveLength(4);
    // What a restart must not change: the baselines and thresholds it learned, the incident open
    // across it, and here (no key counts a level in 10 minutes) every verdict.
    expect(restarted.severity).toEqual(once.severity);
    expect(restarted.severity.some((sev) => sev > 0 && sev <= 3)).toBe(true);
    expect(restarted.incidents.map((v) => v.id)).toEqual(once.incidents.map((v) => v.id));
  });

  it('with restartEveryMs finer than its clock (1 ns), restarts before each later request, and ends', async () => {
    // It stepped to the next restart time 1 ns at a time: today's epoch milliseconds plus 1e-6
    // is the same number, and the replay never ended.
    const judged = writeCsv(join(dir, '09_05_trace.csv'), traffic(JUDGED, 20, new Random(7)));
    const run = await replay({
      config: anomalyProcessorSchema.parse({}),
      files: [judged],
      restartEveryMs: 1e-6,
    });
    expect(run.stream.requests.length).toBeGreaterThan(5);
    const times = new Set(run.stream.requests.map((r) => r.at));
    expect(run.restarts).toBe(times.size - 1);
  });

  it('reads the OTLP/JSON lines the file exporter writes and writes the tagged spans the same way', async () => {
    const r = new Random(3);
    const spans = (from: number, n: number, slowAt = -1): SpanSpec[] =>
      Array.from({ length: n }, (_, i) => ({
        service: i % 2 === 0 ? 'cart' : 'checkout',
        name: i % 2 === 0 ? 'GetCart' : 'ListOrders',
        startMs: from + i * 500,
        durationMs: (i === slowAt ? 50 : 1) * r.latency(i % 2 === 0 ? 2 : 20, 0.2),
      }));
    const lines = (list: SpanSpec[]) =>
      Array.from({ length: Math.ceil(list.length / 100) }, (_, k) =>
        JSON.stringify(protoToJson('traces', traceRequest(list.slice(k * 100, k * 100 + 100)))),
      ).join('\n');
    writeFileSync(join(dir, 'history.jsonl'), lines(spans(JUDGED - WEEK, 4000)));
    writeFileSync(join(dir, 'judged.jsonl'), lines(spans(JUDGED, 400, 200)));
    const out = join(dir, 'tagged.jsonl');
    const run = await hourglass(
      'replay',
      '--config',
      config,
      join(dir, 'judged.jsonl'),
      '--history',
      join(dir, 'history.jsonl'),
      '--spans',
      out,
    );
    expect(run.code).toBe(0);
    expect(run.out).toContain('replayed 400 spans of 1 file(s)');
    const tagged = Number(/tagged (\d+) of 400 spans/.exec(run.out)?.[1]);
    expect(tagged).toBeGreaterThanOrEqual(1);
    expect(tagged).toBeLessThanOrEqual(5); // the slow span, and SEV4/5 at their rates
    type JsonSpan = {
      name: string;
      attributes: { key: string; value: { stringValue?: string } }[];
    };
    const written = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { resourceSpans: { scopeSpans: { spans: JsonSpan[] }[] }[] });
    const spansOut = written.flatMap((w) =>
      w.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)),
    );
    // Exactly the tagged spans, each with its severity; the 50x GetCart is SEV1.
    expect(spansOut).toHaveLength(tagged);
    const severity = (sp: JsonSpan) =>
      sp.attributes.find((a) => a.key === 'anomaly.severity')?.value.stringValue;
    expect(spansOut.every((sp) => severity(sp) !== undefined)).toBe(true);
    expect(spansOut.filter((sp) => severity(sp) === 'SEV1').map((sp) => sp.name)).toEqual([
      'GetCart',
    ]);
  });

  it('runs the flushes and the nightly recalculation in replay time, and leaves the baselines in --store', async () => {
    const r = new Random(11);
    // From Monday 22:00 to Tuesday 04:00: the 03:00 recalculation falls inside the replay.
    const from = Date.UTC(2026, 0, 5, 22);
    const rows = traffic(from, 6 * 3600, r);
    const judged = writeCsv(join(dir, 'night.csv.gz'), rows);
    const store = join(dir, 'replayed.db');
    const run = await hourglass('replay', '--config', config, judged, '--store', store);
    expect(run.code).toBe(0);
    const db = new Database(store, { readonly: true });
    try {
      const computed = db.prepare('SELECT DISTINCT computed_at FROM thresholds').all() as {
        computed_at: number;
      }[];
      // The scheduled recalculation ran in the replay's 03:00 minute (once the requests before
      // it were scored), not at the wall-clock time of the test.
      const at3 = Date.UTC(2026, 0, 6, 3);
      expect(computed.some((c) => c.computed_at >= at3 && c.computed_at < at3 + MIN)).toBe(true);
      const learned = db.prepare('SELECT SUM(count) AS n FROM daily_stats').get() as { n: number };
      expect(learned.n).toBeGreaterThan(0.95 * rows.length);
    } finally {
      db.close();
    }
    // The sidecar's own database was never created.
    expect(() => readFileSync(join(dir, 'live.db'))).toThrow();
  });

  it('says what is wrong with a file it cannot read', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'TraceID,SpanID,PodName,OperationName\nabc,def,pod-a-b,op\n');
    const missing = await hourglass('replay', '--config', config, bad);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(
      `${bad}:1: not a Nezha/TraStrainer trace CSV: no column ParentID, StartTimeUnixNano, EndTimeUnixNano`,
    );
    const rows = traffic(JUDGED, 2, new Random(1));
    writeCsv(bad, rows);
    writeFileSync(bad, readFileSync(bad, 'utf8').replace(rows[1]!.span, 'not-hex-at-all!!'));
    const id = await hourglass('replay', '--config', config, bad);
    expect(id.code).toBe(2);
    expect(id.err).toContain(`${bad}:3: SpanID "not-hex-at-all!!" is not 16 hex digits`);
    const none = await hourglass('replay', '--config', config);
    expect(none.code).toBe(2);
    expect(none.err).toContain('no trace files given');
  });
});
