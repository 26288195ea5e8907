import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexAt, indexSpans } from '../../src/otlp/trace-index.js';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { assertBuilt, SidecarProcess } from '../helpers/process.js';
import { makeSpans } from '../helpers/spans.js';

/**
 * The attack of issue 17: requests of 19 spans, each named with 1 MiB of text (about 50 KB gzip
 * on the wire), against the built sidecar as a child process, then normal traffic. The names the
 * detector keeps are bounded: the process stays up with its memory bounded, every span (the long-
 * named ones too) reaches a real OTLP sink, the database stays small, a restart starts cleanly,
 * and the admin API serves bounded names. Prints peak RSS and the database's size.
 */
beforeAll(() => assertBuilt());

const MIB = 1 << 20;
const ATTACK_REQUESTS = 30;
const SPANS_PER_REQUEST = 19;
const NORMAL_REQUESTS = 20;
const MAX_KEYS = 500;
/** What a name kept may take: 256 bytes and the marker. */
const NAME_BOUND = 256 + 3;

const dir = mkdtempSync(join(tmpdir(), 'hourglass-long-names-'));
const storage = join(dir, 'hourglass.db');
let sink: OtlpSink;
/** Children still running when the test ends (it failed midway) are stopped. */
const children = new Set<SidecarProcess>();
const delivered = new Set<string>();
const sent = new Set<string>();

function configFile(): string {
  const file = join(dir, 'otel-config.yaml');
  writeFileSync(
    file,
    `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  anomaly: { storage: ${storage}, flush_interval: 1s, max_keys: ${MAX_KEYS} }
exporters:
  otlphttp/sink: { endpoint: ${sink.httpEndpoint}, retry_on_failure: { max_elapsed_time: 0 } }
extensions:
  admin: { endpoint: 127.0.0.1:0 }
service:
  extensions: [admin]
  pipelines:
    traces: { receivers: [otlp], processors: [anomaly], exporters: [otlphttp/sink] }
  telemetry:
    logs: { level: info }
    metrics: { level: none }
`,
  );
  return file;
}

async function start(): Promise<{ p: SidecarProcess; otlp: string; admin: string }> {
  const p = new SidecarProcess(['run', '--config', configFile()]);
  children.add(p);
  void p.exited.then(() => children.delete(p));
  const otlp = await p.waitForLog((l) => l.msg === 'OTLP/HTTP receiver listening', 30_000);
  const admin = await p.waitForLog((l) => l.msg === 'admin API listening');
  await p.waitForLog((l) => l.msg === 'anomaly detection started');
  return { p, otlp: String(otlp['endpoint']), admin: String(admin['endpoint']) };
}

/** A request of spans named `names`, as the SDK's protobuf serializer makes it. */
function request(names: string[], kind = SpanKind.SERVER): Uint8Array {
  const spans = makeSpans(
    'victim',
    names.map((name, i) => ({ name, kind, durationMs: 5 + (i % 7) })),
  );
  const bytes = ProtobufTraceSerializer.serializeRequest(spans)!;
  for (const s of indexSpans(bytes).spans) sent.add(hexAt(bytes, s.spanIdAt, 8));
  return bytes;
}

async function post(endpoint: string, body: Uint8Array, gzip: boolean): Promise<number> {
  const res = await fetch(`http://${endpoint}/v1/traces`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: gzip ? gzipSync(body) : body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** What the sink got so far: span ids and the longest name; then it forgets the requests. */
function collect(): number {
  let longest = 0;
  for (const r of sink.accepted('traces')) {
    const index = indexSpans(r.bytes);
    for (const s of index.spans) delivered.add(hexAt(r.bytes, s.spanIdAt, 8));
    longest = Math.max(longest, r.bytes.length);
  }
  sink.reset({ requests: true });
  return longest;
}

async function deliveredAll(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    collect();
    if (![...sent].some((id) => !delivered.has(id))) return;
    if (Date.now() > deadline) throw new Error(`${delivered.size} of ${sent.size} spans delivered`);
    await sink.waitForRequests(1, 60_000);
  }
}

/** Resident set size now and at its peak (the kernel's high-water mark), in MiB. */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { now: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

function dbBytes(): number {
  let n = 0;
  for (const suffix of ['', '-wal']) {
    try {
      n += statSync(storage + suffix).size;
    } catch {
      // no WAL file
    }
  }
  return n;
}

async function getJson(admin: string, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${admin}${path}`);
  return { status: res.status, text: await res.text() };
}

describe('1 MiB span names (issue 17)', () => {
  beforeAll(async () => {
    sink = await OtlpSink.start();
  });
  afterAll(async () => {
    for (const p of children) {
      p.kill('SIGKILL');
      await p.exited;
    }
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the process up and bounded, delivers every span, keeps the database small, restarts cleanly', async () => {
    const { p, otlp, admin } = await start();
    const filler = 'x'.repeat(MIB);
    for (let r = 0; r < ATTACK_REQUESTS; r++) {
      // Every name differs within its first bytes: each would be a key of its own.
      const names = Array.from(
        { length: SPANS_PER_REQUEST },
        (_, i) => `${r}-${i}-${Math.random().toString(36)} ${filler}`,
      );
      expect(await post(otlp, request(names), true)).toBe(200);
      if (r % 5 === 4) {
        collect();
        if (process.env['LONG_NAMES_TRACE']) console.info(r, rss(p.pid));
      }
    }
    for (let r = 0; r < NORMAL_REQUESTS; r++) {
      const names = Array.from({ length: 50 }, (_, i) => `GET /api/${i % 5}`);
      expect(await post(otlp, request(names), false)).toBe(200);
    }
    await deliveredAll();
    expect(delivered.size).toBe(sent.size);
    const memory = rss(p.pid);
    expect(p.logs.filter((l) => l.level === 'fatal' || l.level === 'error')).toEqual([]);

    const keys = await getJson(admin, '/api/v1/baselines');
    expect(keys.status).toBe(200);
    const list = (JSON.parse(keys.text) as { keys: { service: string; operation: string }[] }).keys;
    expect(list.length).toBeGreaterThan(0);
    expect(list.length).toBeLessThanOrEqual(MAX_KEYS);
    for (const k of list) expect(Buffer.byteLength(k.operation)).toBeLessThanOrEqual(NAME_BOUND);
    expect(list.map((k) => k.operation)).toContain('GET /api/0');
    // Asked for by its full name, a long operation is found by its cut one, and served cut.
    const one = list.find((k) => k.operation.endsWith('…'))!;
    const profile = await getJson(
      admin,
      `/api/v1/baselines?service=victim&operation=${encodeURIComponent(one.operation)}`,
    );
    expect(profile.status).toBe(200);
    expect(profile.text.length).toBeLessThan(256 * 1024);
    const anomalies = await getJson(admin, '/api/v1/anomalies?limit=10000');
    expect(anomalies.text.length).toBeLessThan(10 * MIB);

    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const size = dbBytes();
    console.info(
      `long names: ${ATTACK_REQUESTS} requests of ${SPANS_PER_REQUEST} spans named with 1 MiB: ` +
        `RSS ${memory.now.toFixed(0)} MiB after them, peak ${memory.peak.toFixed(0)} MiB; ` +
        `database ${(size / MIB).toFixed(2)} MiB`,
    );
    expect(memory.peak).toBeLessThan(768);
    expect(size).toBeLessThan(8 * MIB);

    // A restart reads the database back and serves at once.
    const again = await start();
    expect(await post(again.otlp, request(['GET /api/0', 'GET /api/1']), false)).toBe(200);
    await deliveredAll();
    expect(delivered.size).toBe(sent.size);
    again.p.kill('SIGTERM');
    expect(await again.p.exited).toBe(0);
  }, 180_000);
});
