import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { protoToJson } from '../../../src/otlp/json-encode.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Capture } from '../helpers/capture-exporter.js';
import { hourglass } from '../helpers/cli.js';
import { Random } from '../helpers/random.js';
import { detectorOf, startTestSidecar } from '../helpers/sidecar.js';
import { traceRequest, wholeNanos, type SpanSpec } from '../helpers/traces.js';
import { THR_STRIDE } from '../../../src/detectors/anomaly/internal/thr-layout.js';

/** Index of SEV1's threshold in a slot's `[sev5 .. sev1]`. */
const SEV1 = 4;

const H = 3_600_000;
const DAY = 24 * H;

/** Spans at 09:xx UTC on each of the last `days` days: the CLI runs on the system clock. */
function history(days: number, perDay: number, service = 'checkout'): SpanSpec[] {
  const r = new Random(31);
  const today = Math.floor(Date.now() / DAY) * DAY;
  const out: SpanSpec[] = [];
  for (let d = 1; d <= days; d++) {
    for (let i = 0; i < perDay; i++) {
      out.push({
        service,
        name: 'GET /cart',
        startMs: today - d * DAY + 9 * H + i * 1000,
        durationMs: wholeNanos(r.latency(100, 0.2)),
      });
    }
  }
  return out;
}

function tableCount(file: string, sql: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('hourglass recalculate and backfill', () => {
  let dir: string;
  let config: string;
  let dbFile: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-cli-'));
    dbFile = join(dir, 'hg.db');
    config = join(dir, 'otel-config.yaml');
    writeConfig({ anomaly: { storage: dbFile, window_days: 7 } });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeConfig(processors: Record<string, unknown>) {
    writeFileSync(
      config,
      stringify({
        receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
        processors,
        exporters: { 'otlp/jaeger': { endpoint: 'jaeger:4317' } },
        service: {
          pipelines: {
            traces: {
              receivers: ['otlp'],
              processors: Object.keys(processors),
              exporters: ['otlp/jaeger'],
            },
          },
        },
      }),
    );
  }

  it('prints usage with --help, and lists both commands in the main help', async () => {
    const backfill = await hourglass('backfill', '--help');
    expect(backfill.code).toBe(0);
    expect(backfill.out).toContain('usage: hourglass backfill');
    expect(backfill.out).toContain('/api/v3/traces');
    expect((await hourglass('recalculate', '--help')).out).toContain(
      'usage: hourglass recalculate',
    );
    const help = (await hourglass('--help')).out;
    expect(help).toMatch(/^ {2}recalculate {2}/m);
    expect(help).toMatch(/^ {2}backfill {5}/m);
  });

  it('backfills from OTLP JSON files (JSON lines and a saved Jaeger answer), then recalculates', async () => {
    const spans = history(5, 100);
    const old = { ...spans[0]!, startMs: Date.now() - 30 * DAY }; // outside the 7-day window
    const failed = { ...spans[1]!, status: 2, durationMs: 1 };
    const lines = [
      JSON.stringify(protoToJson('traces', traceRequest(spans.slice(0, 250)))),
      JSON.stringify(protoToJson('traces', traceRequest([old, failed]))),
    ].join('\n');
    writeFileSync(join(dir, 'spans.jsonl'), lines);
    writeFileSync(
      join(dir, 'jaeger.json'),
      JSON.stringify({ result: protoToJson('traces', traceRequest(spans.slice(250))) }),
    );
    const r = await hourglass(
      'backfill',
      '--config',
      config,
      '--file',
      join(dir, 'spans.jsonl'),
      '--file',
      join(dir, 'jaeger.json'),
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('learned 500 of 502 span(s) into 1 key(s) of anomaly');
    expect(r.out).toContain('1 outside the 7-day window, 1 errors');
    expect(r.out).toMatch(/recalculated thresholds of 1 key\(s\).*: \d+ slot\(s\) learned/);
    expect(tableCount(dbFile, 'SELECT sum(count) AS n FROM daily_stats')).toBe(500);
    expect(
      tableCount(dbFile, "SELECT count(*) AS n FROM thresholds WHERE source = 'learned'"),
    ).toBeGreaterThan(0);
    // The same file again is learned again only for spans not seen in this run: a new run is
    // additive, which the output makes visible.
    const twice = await hourglass(
      'backfill',
      '--config',
      config,
      '--file',
      join(dir, 'jaeger.json'),
      '--file',
      join(dir, 'jaeger.json'),
      '--no-recalculate',
    );
    expect(twice.out).toContain('learned 250 of 500 span(s)');
    expect(twice.out).toContain('250 duplicates');
  });

  it('forms keys as the processor does: semantic-convention HTTP keys, key_attributes, max_keys', async () => {
    writeConfig({
      anomaly: { storage: dbFile, window_days: 7, key_attributes: ['tenant'], max_keys: 3 },
    });
    const start = history(1, 1)[0]!.startMs;
    const spans: SpanSpec[] = [
      { name: 'GET', startMs: start, durationMs: 25, attributes: { 'http.route': '/fast' } },
      { name: 'GET', startMs: start + 1, durationMs: 50, attributes: { 'http.route': '/pay' } },
      { name: 'GET', startMs: start + 2, durationMs: 50, attributes: { 'http.route': '/pay' } },
      { name: 'job', startMs: start + 3, durationMs: 5, attributes: { tenant: 'a' } },
      { name: 'job', startMs: start + 4, durationMs: 5, attributes: { tenant: 'b' } },
    ];
    writeFileSync(
      join(dir, 'semconv.json'),
      JSON.stringify(protoToJson('traces', traceRequest(spans))),
    );
    const r = await hourglass(
      'backfill',
      '--config',
      config,
      '--file',
      join(dir, 'semconv.json'),
      '--no-recalculate',
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('learned 4 of 5 span(s) into 3 key(s)');
    expect(r.out).toContain('1 beyond max_keys');
    const db = new Database(dbFile, { readonly: true });
    const ops = db
      .prepare<[], { operation: string }>('SELECT operation FROM keys ORDER BY id')
      .all();
    db.close();
    expect(ops.map((o) => o.operation)).toEqual(['GET /fast', 'GET /pay', 'job [tenant=a]']);
  });

  it('backfills from a Jaeger query API, one service and time step at a time', async () => {
    const spans = [...history(2, 60, 'checkout'), ...history(2, 40, 'payments')];
    const seen: URLSearchParams[] = [];
    // A stand-in for Jaeger's query service, speaking its /api/v3 wire format.
    const jaeger = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://jaeger');
      if (url.pathname === '/api/v3/services') {
        res.end(JSON.stringify({ services: ['checkout', 'payments'] }));
        return;
      }
      if (url.pathname !== '/api/v3/traces') {
        res.writeHead(404).end();
        return;
      }
      seen.push(url.searchParams);
      const service = url.searchParams.get('query.service_name');
      const min = Date.parse(url.searchParams.get('query.start_time_min') ?? '');
      const max = Date.parse(url.searchParams.get('query.start_time_max') ?? '');
      if (!service || Number.isNaN(min) || Number.isNaN(max)) {
        res.writeHead(400).end(
          JSON.stringify({
            error: {
              httpCode: 400,
              message: 'query.start_time_min and query.start_time_max are required',
            },
          }),
        );
        return;
      }
      const found = spans.filter(
        (s) => s.service === service && s.startMs >= min && s.startMs < max,
      );
      if (found.length === 0) {
        res
          .writeHead(404)
          .end(JSON.stringify({ error: { httpCode: 404, message: 'No traces found' } }));
        return;
      }
      // Two result objects in one body, as a streamed answer may hold.
      const half = Math.ceil(found.length / 2);
      res.end(
        JSON.stringify({ result: protoToJson('traces', traceRequest(found.slice(0, half))) }) +
          '\n' +
          (found.length > half
            ? JSON.stringify({ result: protoToJson('traces', traceRequest(found.slice(half))) })
            : ''),
      );
    });
    await new Promise<void>((resolve) => jaeger.listen(0, '127.0.0.1', resolve));
    try {
      const port = (jaeger.address() as AddressInfo).port;
      const start = new Date(Math.floor(Date.now() / DAY) * DAY - 3 * DAY).toISOString();
      const r = await hourglass(
        'backfill',
        '--config',
        config,
        '--jaeger',
        `http://127.0.0.1:${port}`,
        '--start',
        start,
        '--step',
        '6h',
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain('learned 200 of 200 span(s) into 2 key(s)');
      expect(new Set(seen.map((p) => p.get('query.service_name')))).toEqual(
        new Set(['checkout', 'payments']),
      );
      expect(seen.every((p) => p.get('query.num_traces') === '1000')).toBe(true);
      expect(seen[0]!.get('query.start_time_min')).toBe(start);
      expect(tableCount(dbFile, 'SELECT count(*) AS n FROM keys')).toBe(2);

      const bad = await hourglass(
        'backfill',
        '--config',
        config,
        '--jaeger',
        `http://127.0.0.1:${port}/nothing-here`,
        '--service',
        'checkout',
      );
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/Jaeger answered 404|no such/i);
    } finally {
      await new Promise((resolve) => jaeger.close(resolve));
    }
  });

  it("recalculates a running sidecar's file; the sidecar picks the thresholds up at its next flush", async () => {
    const clock = new FakeClock(Date.now());
    const capture = new Capture();
    const sidecar = await startTestSidecar({
      clock,
      anomaly: { storage: dbFile, window_days: 7, recalculation: { enabled: false } },
      factories: [capture.factory],
    });
    try {
      // 2,100 spans: a shape that tells SEV3's rate, so SEV1 follows its percentile (a smaller
      // one starts SEV3 and above at an order of magnitude, whatever the percentiles).
      const spans = history(3, 700);
      const entry = sidecar.service.pipelineEntries.get('traces')!;
      await entry.consume({ signal: 'traces', bytes: traceRequest(spans), items: spans.length });
      clock.advance(10_000);
      await detectorOf(sidecar).idle();
      writeConfig({
        anomaly: { storage: dbFile, window_days: 7, severity_percentiles: { sev1: 99.9999 } },
      });
      const r = await hourglass('recalculate', '--config', config, '--json');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out) as { processor: string; keys: number; changed: number };
      expect(report).toMatchObject({ processor: 'anomaly', keys: 1 });
      expect(report.changed).toBeGreaterThan(0);
      const key = detectorOf(sidecar).model.get('checkout', 'GET /cart', 2)!;
      const before = key.thr[199 * THR_STRIDE + SEV1]!;
      clock.advance(10_000);
      expect(key.thr[199 * THR_STRIDE + SEV1]!).toBeGreaterThan(before);
    } finally {
      await sidecar.shutdown();
    }
  });

  it('checks its sources and options before it opens the database: a typo creates none', async () => {
    writeConfig({ anomaly: { storage: join(dir, 'data', 'hg.db') } });
    const missing = join(dir, 'spans.jsonl');
    const r = await hourglass('backfill', '--config', config, '--file', missing);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`hourglass backfill: ${missing}: cannot read the file (ENOENT)\n`);
    const step = await hourglass(
      'backfill',
      '--config',
      config,
      '--jaeger',
      'http://j',
      '--step',
      'x',
    );
    expect(step.code).toBe(2);
    expect(step.err).toBe('hourglass backfill: --step: "x" is not a duration such as 1h\n');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('refuses to recalculate a database that is not there, naming the path, and creates nothing', async () => {
    writeConfig({ anomaly: { storage: join(dir, 'data', 'hg.db') } });
    const r = await hourglass('recalculate', '--config', config);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `hourglass recalculate: processors.anomaly.storage: there is no database at ${join(dir, 'data', 'hg.db')}; run the command with the sidecar's config and data directory (HOURGLASS_DATA_DIR in the shipped config); "hourglass backfill" seeds a new one\n`,
    );
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('explains what is wrong with the config or the arguments', async () => {
    writeConfig({ anomaly: { storage: dbFile, window_days: 0, timezone: 'Mars/Base' } });
    const r = await hourglass('recalculate', '--config', config);
    expect(r.code).toBe(2);
    expect(r.err).toContain('processors.anomaly.timezone: is not an IANA time zone');
    expect(r.err).toContain('processors.anomaly.window_days: must be at least 1');
    writeConfig({ 'anomaly/a': { storage: dbFile }, 'anomaly/b': { storage: join(dir, 'b.db') } });
    new Database(join(dir, 'b.db')).close(); // recalculate works on a database that is there
    expect((await hourglass('recalculate', '--config', config)).err).toContain(
      'several anomaly processors (anomaly/a, anomaly/b); pick one with --processor',
    );
    expect(
      (await hourglass('recalculate', '--config', config, '--processor', 'anomaly/b')).code,
    ).toBe(0);
    expect(
      (await hourglass('recalculate', '--config', config, '--processor', 'anomaly/c')).err,
    ).toContain(
      `${config}: processors.anomaly/c: no anomaly processor with this id; configured: anomaly/a, anomaly/b`,
    );
    const none = await hourglass('backfill', '--config', config);
    expect(none.code).toBe(2);
    expect(none.err).toContain('give at least one source');
  });
});
