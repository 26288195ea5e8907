/**
 * `npm run bench`: the throughput benchmark. Runs the built sidecar (dist/) in its own process
 * pinned to one core, a load generator and a downstream OTLP server on the other core, and
 * measures, for the full pipeline with detection and for the same build without the anomaly
 * processor, side by side in one run:
 *   - spans/s at saturation (closed loop) per transport,
 *   - CPU seconds per 10k spans/s,
 *   - p50/p99 request latency at half of saturation (open loop),
 *   - peak RSS.
 * Each figure is the median of BENCH_REPEATS runs (default 3). Results: a table on stdout and
 * bench/results/throughput.json. With BENCH_CPU_AT=<spans/s>, only the CPU of both pipelines at
 * that fixed load (see cpuAtRate). With BENCH_FLEET=1, the fleet mode instead (bench/fleet.ts).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFleet } from '../fleet.js';
import { didYouMean } from '../../src/config/suggest.js';
import { benchArgs, envWholeNumber, usageError } from '../lib/args.js';
import { own } from '../lib/children.js';
import { startNullServer } from '../lib/null-server.js';
import type { LoadResult, LoadSpec } from './loadgen.js';

// No options: the settings are environment variables (an option given is refused, not ignored).
benchArgs(
  'bench',
  `usage: [VARIABLE=VALUE ...] npm run bench

The throughput benchmark: the built sidecar (dist/) against a load generator and a downstream,
with and without detection (docs/performance.md). Set by environment variables:
  BENCH_REPEATS=3          runs per figure (the median is printed)
  BENCH_SECONDS=10         seconds measured per run
  BENCH_TRANSPORTS=http/protobuf,grpc,http/json
  BENCH_CPU_AT=SPANS       only the CPU of both pipelines at this fixed load (spans/s)
  BENCH_FLEET=1            the fleet mode instead (bench/fleet.ts; BENCH_FLEET_SIZES=1,4,16,
                           BENCH_FLEET_HOURS=6)`,
  {},
);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REPEATS = envWholeNumber('bench', 'BENCH_REPEATS', 3);
const SECONDS = envWholeNumber('bench', 'BENCH_SECONDS', 10);
const TRANSPORTS = transports(process.env['BENCH_TRANSPORTS'] || 'http/protobuf,grpc,http/json');

/** BENCH_TRANSPORTS: each one the load generator speaks, or the variable is named (exit 2). */
function transports(text: string): LoadSpec['transport'][] {
  const known = ['http/protobuf', 'grpc', 'http/json'];
  const list = text.split(',');
  const bad = list.find((t) => !known.includes(t));
  if (bad === undefined) return list as LoadSpec['transport'][];
  const hint = didYouMean(bad, known);
  return usageError(
    'bench',
    `BENCH_TRANSPORTS: no transport "${bad}"${hint} (the transports: ${known.join(', ')})`,
  );
}
const SIDECAR_CORE = '0';
/** The flags `npm start` and the Dockerfile run the sidecar with (see docs/performance.md). */
const NODE_FLAGS = ['--initial-old-space-size=128'];
const LOAD_CORE = cpus().length > 1 ? '1' : '0';

interface Variant {
  name: string;
  processors: string[];
}
const VARIANTS: Variant[] = [
  { name: 'detection', processors: ['memory_limiter', 'anomaly', 'batch'] },
  { name: 'pass-through', processors: ['memory_limiter', 'batch'] },
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Forks a TypeScript script pinned to a core, at a `nice` level. The load generator and the
 * downstream share a core: the downstream runs at nice 10, the closed loop at 19 (it takes all the
 * CPU it gets, and a starved downstream would back the sidecar's exporter up, so the benchmark
 * would measure the load generator), the open loop at 0 (mostly idle, it must send and time its
 * requests on schedule, not after the downstream's work).
 */
function tsxFork(script: string, pin: string, nice = 0): ChildProcess {
  return own(
    fork(join(ROOT, script), [], {
      execPath: 'taskset',
      execArgv: ['-c', pin, 'nice', '-n', String(nice), process.execPath, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: any) => (m.error ? reject(new Error(m.error)) : resolve(m as T)));
    if (message !== undefined) child.send(message as object);
  });
}

/** utime + stime of a process (all its threads), in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const end = child.exitCode ?? child.signalCode;
    if (end !== null) throw new Error(`the sidecar exited (${end}) before it was ready`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the sidecar did not become ready');
}

async function startSidecar(variant: Variant, sinkPort: number) {
  const [grpcPort, httpPort, telemetryPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-bench-'));
  const config = `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort} }
      http: { endpoint: 127.0.0.1:${httpPort} }
processors:
  memory_limiter: { check_interval: 1s, limit_mib: 1536 }
  anomaly: { storage: ${join(dir, 'hourglass.db')} }
  batch: {}
exporters:
  otlp/sink:
    endpoint: 127.0.0.1:${sinkPort}
    tls: { insecure: true }
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [${variant.processors.join(', ')}]
      exporters: [otlp/sink]
  telemetry:
    logs: { level: warn }
    metrics: { address: 127.0.0.1:${telemetryPort} }
`;
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, config);
  const child = own(
    spawn(
      'taskset',
      [
        '-c',
        SIDECAR_CORE,
        process.execPath,
        ...NODE_FLAGS,
        join(ROOT, 'dist/cli.js'),
        'run',
        '--config',
        file,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    ),
  );
  await waitReady(`http://127.0.0.1:${telemetryPort}/readyz`, child);
  return {
    child,
    metricsUrl: `http://127.0.0.1:${telemetryPort}/metrics`,
    targets: { grpc: `127.0.0.1:${grpcPort}`, http: `127.0.0.1:${httpPort}` },
  };
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  const child = tsxFork('bench/throughput/loadgen.ts', LOAD_CORE, spec.mode === 'closed' ? 19 : 0);
  const { result } = await ask<{ result: LoadResult }>(child, spec);
  return result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the downstream's count stops moving (the sidecar's queue is empty). */
async function drain(sink: ChildProcess): Promise<void> {
  let last = -1;
  for (let i = 0; i < 120; i++) {
    const { spans } = await ask<{ spans: number }>(sink, { type: 'count' });
    if (spans === last) return;
    last = spans;
    await sleep(500);
  }
}

/** The sidecar's own request-duration histogram (cumulative buckets, seconds), summed over labels. */
async function durationBuckets(metricsUrl: string): Promise<Map<number, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(
    /^hourglass_receiver_request_duration_seconds_bucket\{le="([^"]+)"[^}]*\} (\S+)$/gm,
  )) {
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/**
 * The 99th percentile of the requests between two readings of the histogram, in ms, interpolated
 * linearly within its bucket (as Prometheus' histogram_quantile does), and the share under 5 ms.
 */
function serverLatency(
  before: Map<number, number>,
  after: Map<number, number>,
): { p99Ms: number; under5ms: number } {
  const les = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = count(Infinity);
  if (total === 0) return { p99Ms: 0, under5ms: 0 };
  const rank = 0.99 * total;
  let p99Ms = Infinity;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const c = count(le);
    if (c >= rank) {
      p99Ms =
        le === Infinity
          ? prevLe * 1000
          : (prevLe + ((le - prevLe) * (rank - prevCount)) / (c - prevCount)) * 1000;
      break;
    }
    prevLe = le;
    prevCount = c;
  }
  return { p99Ms, under5ms: count(0.005) / total };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  variant: string;
  transport: string;
  spansPerSecond: number;
  cpuSecondsPer10kSpans: number;
  p50Ms: number;
  p99Ms: number;
  /** The same, as the sidecar measures it: from a request's arrival to its answer. */
  serverP99Ms: number;
  /** Share of requests the sidecar answered within 5 ms, at half load. */
  serverUnder5ms: number;
  peakRssMiB: number;
  /** Requests not answered 200 at half load (there should be none). */
  refused: number;
}

async function measure(
  variant: Variant,
  transport: LoadSpec['transport'],
  sink: ChildProcess,
  sinkPort: number,
): Promise<Row> {
  const runs: Row[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const { child, targets, metricsUrl } = await startSidecar(variant, sinkPort);
    const target = transport === 'grpc' ? targets.grpc : targets.http;
    const warmupMs = 3000;
    const base = {
      transport,
      target,
      spansPerRequest: 512,
      warmupMs,
      durationMs: SECONDS * 1000,
      rate: 0,
    };
    // Saturation: a closed loop keeps 16 requests in flight; what counts is what reaches the
    // downstream during the measured window (accepted data piling up in a queue is not
    // throughput), read from the downstream's count at the window's edges.
    const running = load({ ...base, mode: 'closed', concurrency: 16 });
    await sleep(warmupMs);
    const from = await ask<{ spans: number }>(sink, { type: 'count' });
    const cpu0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const to = await ask<{ spans: number }>(sink, { type: 'count' });
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(child.pid!) - cpu0;
    await running;
    const spansPerSecond = (to.spans - from.spans) / wall;
    // The closed loop's backlog drains before latency is measured at half of that rate.
    await drain(sink);
    const histogramBefore = await durationBuckets(metricsUrl);
    const half = await load({
      ...base,
      mode: 'open',
      concurrency: 64,
      rate: spansPerSecond / 2 / 512,
    });
    const server = serverLatency(histogramBefore, await durationBuckets(metricsUrl));
    const { spans: delivered } = await ask<{ spans: number }>(sink, { type: 'count' });
    runs.push({
      variant: variant.name,
      transport,
      spansPerSecond,
      // Cores used during the measured window, per 10k spans/s delivered.
      cpuSecondsPer10kSpans: cpu / wall / (spansPerSecond / 10_000),
      p50Ms: half.latencyMs.p50,
      p99Ms: half.latencyMs.p99,
      serverP99Ms: server.p99Ms,
      serverUnder5ms: server.under5ms,
      peakRssMiB: peakRssMiB(child.pid!),
      refused: half.requests - half.ok,
    });
    if (delivered === 0) throw new Error('nothing reached the downstream');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await ask(sink, { type: 'reset' });
  }
  return {
    variant: variant.name,
    transport,
    spansPerSecond: median(runs.map((r) => r.spansPerSecond)),
    cpuSecondsPer10kSpans: median(runs.map((r) => r.cpuSecondsPer10kSpans)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    serverP99Ms: median(runs.map((r) => r.serverP99Ms)),
    serverUnder5ms: median(runs.map((r) => r.serverUnder5ms)),
    peakRssMiB: median(runs.map((r) => r.peakRssMiB)),
    refused: median(runs.map((r) => r.refused)),
  };
}

/**
 * The latency floor of the machine, measured the same way: a server that reads each request and
 * answers at once (`bench/null-otlp-server.ts`), pinned where the sidecar runs, at the rate of the
 * detection pipeline's half load. What the load generator sees above this is the sidecar's.
 */
async function reference(
  transport: LoadSpec['transport'],
  rate: number,
): Promise<{ p50Ms: number; p99Ms: number }> {
  const runs: { p50: number; p99: number }[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const server = await startNullServer(SIDECAR_CORE);
    const result = await load({
      transport,
      target: `127.0.0.1:${transport === 'grpc' ? server.grpc : server.http}`,
      mode: 'open',
      concurrency: 64,
      rate,
      durationMs: SECONDS * 1000,
      warmupMs: 3000,
      spansPerRequest: 512,
    });
    runs.push(result.latencyMs);
    server.stop();
  }
  return { p50Ms: median(runs.map((r) => r.p50)), p99Ms: median(runs.map((r) => r.p99)) };
}

async function main(): Promise<void> {
  const sink = tsxFork('bench/throughput/sink.ts', LOAD_CORE, 10);
  const { port: sinkPort } = await ask<{ port: number }>(sink, undefined);
  const rows: Row[] = [];
  const references: Record<string, { p50Ms: number; p99Ms: number }> = {};
  for (const transport of TRANSPORTS) {
    for (const variant of VARIANTS) {
      const row = await measure(variant, transport, sink, sinkPort);
      rows.push(row);
      process.stderr.write(
        `${row.variant} ${row.transport}: ${Math.round(row.spansPerSecond)} spans/s\n`,
      );
    }
    const detection = rows.find((r) => r.transport === transport && r.variant === 'detection')!;
    references[transport] = await reference(transport, detection.spansPerSecond / 2 / 512);
  }
  sink.kill();
  const table = [
    '| transport | pipeline | spans/s (saturation) | vs pass-through | CPU s per 10k spans/s | p50 ms at half load | p99 ms at half load | sidecar p99 ms | sidecar <= 5 ms | peak RSS MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const ref = rows.find((x) => x.transport === r.transport && x.variant === 'pass-through')!;
      return `| ${r.transport} | ${r.variant} | ${Math.round(r.spansPerSecond).toLocaleString('en')} | ${(r.spansPerSecond / ref.spansPerSecond).toFixed(3)} | ${r.cpuSecondsPer10kSpans.toFixed(3)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.serverP99Ms.toFixed(2)} | ${(r.serverUnder5ms * 100).toFixed(1)}% | ${r.peakRssMiB} |`;
    }),
  ].join('\n');
  const floor = [
    '| transport | null server p50 ms | null server p99 ms |',
    '| --- | ---: | ---: |',
    ...Object.entries(references).map(
      ([t, r]) => `| ${t} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`,
    ),
  ].join('\n');
  process.stdout.write(
    `\nhourglass throughput: sidecar pinned to core ${SIDECAR_CORE}, load and downstream on core ${LOAD_CORE}; 512 spans per request; median of ${REPEATS} runs of ${SECONDS}s\n\n${table}\n\nlatency floor: a server that answers at once, on the sidecar's core, at the detection pipeline's half load\n\n${floor}\n`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/throughput.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        repeats: REPEATS,
        seconds: SECONDS,
        rows,
        latencyFloor: references,
      },
      null,
      2,
    ),
  );
}

/**
 * `BENCH_CPU_AT=<spans/s>`: the CPU the sidecar uses at a fixed offered load over HTTP/protobuf,
 * detection against pass-through, in turns, BENCH_REPEATS times each (medians). Steadier than the
 * saturation ratio for telling what detection costs: use BENCH_SECONDS=25 or more.
 */
async function cpuAtRate(spansPerSecond: number): Promise<void> {
  const sink = tsxFork('bench/throughput/sink.ts', LOAD_CORE, 10);
  const { port: sinkPort } = await ask<{ port: number }>(sink, undefined);
  const cpu: Record<string, number[]> = {};
  const warmupMs = 3000;
  for (let r = 0; r < REPEATS; r++) {
    for (const variant of VARIANTS) {
      const { child, targets } = await startSidecar(variant, sinkPort);
      const running = load({
        transport: 'http/protobuf',
        target: targets.http,
        mode: 'open',
        concurrency: 64,
        rate: spansPerSecond / 512,
        warmupMs,
        durationMs: SECONDS * 1000,
        spansPerRequest: 512,
      });
      await sleep(warmupMs);
      const cpu0 = cpuSeconds(child.pid!);
      await sleep(SECONDS * 1000);
      (cpu[variant.name] ??= []).push(cpuSeconds(child.pid!) - cpu0);
      const result = await running;
      if (result.ok !== result.requests) throw new Error(`${variant.name}: requests refused`);
      await drain(sink);
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    }
  }
  sink.kill();
  const spans = spansPerSecond * SECONDS;
  const rows = VARIANTS.map((v) => {
    const seconds = median(cpu[v.name]!);
    return { variant: v.name, seconds, usPerSpan: (seconds / spans) * 1e6 };
  });
  const [detection, pass] = rows as [(typeof rows)[0], (typeof rows)[0]];
  process.stdout.write(
    `\nCPU of the sidecar at ${spansPerSecond.toLocaleString('en')} spans/s over HTTP/protobuf, ${SECONDS} s measured, median of ${REPEATS}\n\n` +
      '| pipeline | CPU s | µs per span |\n| --- | ---: | ---: |\n' +
      rows
        .map((r) => `| ${r.variant} | ${r.seconds.toFixed(2)} | ${r.usPerSpan.toFixed(2)} |`)
        .join('\n') +
      `\n\ndetection: +${((detection.seconds / pass.seconds - 1) * 100).toFixed(1)}% CPU, ${(detection.usPerSpan - pass.usPerSpan).toFixed(2)} µs a span\n`,
  );
}

const cpuAt = envWholeNumber('bench', 'BENCH_CPU_AT', 0, 0);
if (process.env['BENCH_FLEET']) await runFleet();
else await (cpuAt > 0 ? cpuAtRate(cpuAt) : main());
