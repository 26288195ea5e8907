/**
 * Issue 17's attacks at the issue's scale (`npm run bench:security`), each against a fresh sidecar
 * (the built CLI as a child process on 127.0.0.1, memory_limiter limit_mib 1024, the default
 * receiver settings), with valid OTLP traffic sent after each. Prints, per attack: whether the
 * process survived, its peak RSS, /healthz latency during the attack (median and worst), what the
 * attack was answered, and whether every valid span was delivered.
 *
 * BENCH_CLI=/path/to/dist/cli.js runs the same against another build (for a before/after).
 * BENCH_SCALE=0.1 shrinks every count. Bounded: each attack gives up after BENCH_DEADLINE_S (60).
 */
import {
  HTTP2_PREFACE,
  adminEnumeration,
  grpcCall,
  idleConnections,
  jsonBomb,
  packedPoison,
  post,
  slowGrpcStreams,
  slowHttpBodies,
  validMetrics,
  varintOverflow,
} from '../test/security/attacks.js';
import {
  healthzLatencies,
  startTarget,
  validTraffic,
  type Target,
} from '../test/security/harness.js';
import { envPositiveNumber, envWholeNumber } from './lib/args.js';

const cli = process.env['BENCH_CLI'];
const scale = envPositiveNumber('bench:security', 'BENCH_SCALE', 1);
const deadline = envWholeNumber('bench:security', 'BENCH_DEADLINE_S', 60) * 1000;
const n = (count: number) => Math.max(1, Math.round(count * scale));

interface Row {
  attack: string;
  answers: string;
  survived: boolean;
  peakRss: number;
  healthz: string;
  delivered: string;
  seconds: number;
}

function summary(list: readonly (string | number | undefined)[]): string {
  const counts = new Map<string, number>();
  for (const a of list) counts.set(String(a), (counts.get(String(a)) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${v}x ${k}`).join(', ');
}

async function run(
  attack: string,
  f: (t: Target) => Promise<string>,
  fdLimit?: number,
): Promise<Row> {
  const t = await startTarget({
    limitMib: 1024,
    ...(cli ? { cli } : {}),
    ...(fdLimit ? { fdLimit } : {}),
  });
  const t0 = performance.now();
  let answers: string;
  let latencies: number[] = [];
  try {
    const running = f(t);
    latencies = await healthzLatencies(t.telemetry, running).catch(() => []);
    answers = await running;
  } catch (err) {
    answers = `error: ${(err as Error).message}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  const survived = t.alive();
  const peakRss = survived ? t.peakRssMiB() : NaN;
  let delivered = 'n/a (process gone)';
  if (survived) {
    try {
      const sent = await validTraffic(t.http, 5, 100);
      await t.sink.waitFor(sent.size, 'traces', 30_000);
      const got = new Set(t.sink.spanIds());
      delivered = `${[...sent].filter((id) => got.has(id)).length}/${sent.size}`;
    } catch (err) {
      delivered = `failed: ${(err as Error).message.slice(0, 60)}`;
    }
  }
  latencies.sort((a, b) => a - b);
  const healthz = latencies.length
    ? `${latencies[Math.floor(latencies.length / 2)]!.toFixed(0)} / ${latencies.at(-1)!.toFixed(0)} ms`
    : 'no answer';
  await t.stop();
  return { attack, answers, survived, peakRss, healthz, delivered, seconds };
}

const attacks: Array<[string, (t: Target) => Promise<string>, number?]> = [
  [
    `${n(9000)} idle HTTP + ${n(9000)} HTTP/2 preface-only connections, held 15 s, fd limit 4096`,
    async (t) => {
      const plain = await idleConnections(t.http, n(9000));
      const preface = await idleConnections(t.grpc, n(9000), HTTP2_PREFACE);
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      const open = [...plain.sockets, ...preface.sockets].filter((s) => !s.closed).length;
      for (const s of [...plain.sockets, ...preface.sockets]) s.destroy();
      return `${open} still open after 15 s`;
    },
    4096,
  ],
  [
    `${n(300)} gRPC calls sending 3.9 of 4 MiB, never ending`,
    async (t) => summary(await slowGrpcStreams(t.grpc, n(300), deadline)),
  ],
  [
    `${n(100)} HTTP/1 bodies of 19 MiB, never ending`,
    async (t) => summary(await slowHttpBodies(t.http, n(100), 19 * 1024 * 1024, deadline)),
  ],
  [
    'packed-field poison + 20 valid metrics requests (batched)',
    async (t) => {
      const statuses = await Promise.all([
        post(t.http, '/v1/metrics', packedPoison()),
        ...Array.from({ length: 20 }, () => post(t.http, '/v1/metrics', validMetrics(3))),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return `poison ${statuses[0]}, valid ${summary(statuses.slice(1))}; sink accepted ${t.sink.items('metrics')}/60 points`;
    },
  ],
  [
    'varint overflowing 64 bits',
    async (t) => String(await post(t.http, '/v1/traces', varintOverflow())),
  ],
  [
    `${n(8)} JSON element bombs at once (20 KB gzip -> 20.7 MB)`,
    async (t) => {
      const bomb = jsonBomb();
      const headers = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
      return summary(
        await Promise.all(
          Array.from({ length: n(8) }, () =>
            post(t.http, '/v1/traces', bomb, headers).catch(() => 'reset'),
          ),
        ),
      );
    },
  ],
  ['grpc-timeout: 99999999H', async (t) => `grpc-status ${await grpcCall(t.grpc, '99999999H')}`],
  ['admin API probed without a token', async (t) => summary(await adminEnumeration(t.admin))],
];

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const rows: Row[] = [];
for (const [name, f, fdLimit] of attacks) {
  process.stderr.write(`${name} ...\n`);
  rows.push(await run(name, f, fdLimit));
}
console.log(`\nbuild: ${cli ?? 'this worktree (dist/cli.js)'}; memory_limiter limit_mib 1024`);
console.log(
  '| attack | answered | survived | peak RSS MiB | /healthz median / worst | valid spans delivered | s |',
);
console.log('| --- | --- | --- | ---: | --- | --- | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.attack} | ${r.answers} | ${r.survived ? 'yes' : 'NO'} | ${Number.isNaN(r.peakRss) ? '-' : r.peakRss.toFixed(0)} | ${r.healthz} | ${r.delivered} | ${r.seconds.toFixed(1)} |`,
  );
}
