/**
 * The incident engine's cost per tagged span, this tree against other checkouts of hourglass
 * (`npm run bench:incidents:ab -- DIR [DIR...]`): what `assign` (grouping a request's tagged spans
 * by trace, finding or opening their incident, counting them) costs, apart from the scoring around
 * it. This tree's detector scores the "1% 10x slower" requests of `bench:scoring:ab` (about 6
 * tagged spans in each 512-span request, each its own trace); every tree's engine is then handed
 * the same tagged spans at the same times, in alternating rounds, and must assign the same
 * incidents (checked).
 *
 * Cases: the 64 requests over and over (their traces remembered); and every tagged span in a new
 * trace, with the engine's memory of recent traces full (`max_traces`, 50,000), as in a sidecar
 * that has run for a while. `BENCH_ROUNDS` (default 21) rounds of `BENCH_REQUESTS` (default 640)
 * requests per case; CPU time unless `BENCH_CLOCK=wall` (lib/ab.ts). Prints a table; nothing is
 * asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IncidentEngine } from '../src/detectors/anomaly/incidents/engine.js';
import type { TaggedSpan } from '../src/detectors/anomaly/incidents/trace-groups.js';
import type { TraceIndex } from '../src/otlp/trace-index.js';
import { standaloneDetector } from '../test/detectors/helpers/detector.js';
import { traceRequest } from '../test/detectors/helpers/traces.js';
import { abHeader, abRow, otherCheckouts, timePerItem, wallClock } from './lib/ab.js';
import { envWholeNumber } from './lib/args.js';
import { workload } from './lib/workload.js';

type Engine = Pick<IncidentEngine, 'assign'>;
type Call = readonly [TraceIndex, readonly TaggedSpan[], number];

const HERE = resolve(import.meta.dirname, '..');
const others = otherCheckouts('bench:incidents:ab', 'src/detectors/anomaly/incidents/engine.ts');
const rounds = envWholeNumber('bench:incidents:ab', 'BENCH_ROUNDS', 21);
const perRound = envWholeNumber('bench:incidents:ab', 'BENCH_REQUESTS', 640);
const tmp = mkdtempSync(join(tmpdir(), 'hourglass-bench-incidents-'));
const now = Date.now();
const w = workload();

// The tagged spans of the "1% 10x slower" requests, as this tree's processor hands them over.
const detector = await standaloneDetector(join(tmp, 'scoring.db'));
for (let day = 0; day < 14; day++) {
  for (let h = 0; h < 24; h++) {
    const spans = w.spans(now - day * 86_400_000 - h * 3_600_000, 6000);
    detector.accept(detector.score(traceRequest(spans)));
  }
}
await detector.recalculate();
const engine = detector.incidents!;
const calls: Call[] = [];
const assign = engine.assign.bind(engine);
engine.assign = (index, tagged, at) => {
  calls.push([index, tagged, at]);
  return assign(index, tagged, at);
};
const slow = Array.from({ length: 64 }, () => w.request(now, 512, 0.01));
for (let i = 0; i < 128; i++) detector.accept(detector.score(slow[i % 64]!));
const requests = calls.slice(-64);
const taggedPerRequest = requests.reduce((n, [, tagged]) => n + tagged.length, 0) / 64;
const { config } = engine;
await detector.shutdown();

async function load(root: string): Promise<() => Engine> {
  const from = (p: string) => import(pathToFileURL(join(root, p)).href);
  const { IncidentEngine } = await from('src/detectors/anomaly/incidents/engine.ts');
  const { IncidentMetrics } = await from('src/detectors/anomaly/incidents/incident-metrics.ts');
  const { SelfMetrics } = await from('src/telemetry/self-metrics.ts');
  return () =>
    new IncidentEngine(
      config,
      new IncidentMetrics(new SelfMetrics({ processMetrics: false }), 'anomaly', 50),
    );
}
const trees = [{ label: 'this tree', make: await load(HERE) }];
for (const o of others) trees.push({ label: o.label, make: await load(o.dir) });

/** Request `i` of a case whose every trace is new: its tagged spans in traces of their own. */
function fresh(i: number): Call {
  const [index, tagged, at] = requests[i % 64]!;
  const renamed = tagged.map((t) => ({
    span: t.span,
    record: { ...t.record, traceId: `${i.toString(16).padStart(24, '0')}${t.span}` },
  }));
  return [index, renamed, at];
}

interface Case {
  readonly label: string;
  readonly engines: Engine[];
  readonly call: (i: number) => Call;
  next: number[];
}
const cases: Case[] = [
  {
    label: 'the same 64 requests, traces remembered',
    engines: trees.map((t) => t.make()),
    call: (i) => requests[i % 64]!,
    next: trees.map(() => 0),
  },
  {
    label: 'a new trace for each tagged span, memory full',
    engines: trees.map((t) => t.make()),
    call: fresh,
    next: trees.map(() => 0),
  },
];

// Warm-up, the memory of recent traces filled, and the same incidents from every tree.
const full = Math.ceil((config.max_traces * 1.2) / taggedPerRequest);
for (const c of cases) {
  const warm = c.call === fresh ? full : 640;
  for (let i = 0; i < warm; i++) {
    const [index, tagged, at] = c.call(i);
    const ids = c.engines.map((e) => JSON.stringify(e.assign(index, tagged, at)));
    if (ids.some((x) => x !== ids[0])) throw new Error(`${c.label}: trees assign other incidents`);
  }
  c.next = c.engines.map(() => warm);
}

const time = (c: Case, k: number) => {
  const start = c.next[k]!;
  c.next[k] = start + perRound;
  const engine = c.engines[k]!;
  const batch = Array.from({ length: perRound }, (_, i) => c.call(start + i));
  return timePerItem(perRound, taggedPerRequest, (i) => {
    const [index, tagged, at] = batch[i]!;
    engine.assign(index, tagged, at);
  });
};

console.log(
  `\nthe incident engine's assign, ns per tagged span (${wallClock ? 'wall-clock' : 'CPU'} time), ${rounds} alternating rounds of ${perRound} requests, ${taggedPerRequest.toFixed(1)} tagged spans each; every tree assigned the same incidents in the warm-up`,
);
console.log(abHeader(trees.map((t) => t.label)).replaceAll('ns/span', 'ns/tagged span'));
for (const c of cases) console.log(abRow(c.label, trees.length, rounds, (k) => time(c, k)));
rmSync(tmp, { recursive: true, force: true });
