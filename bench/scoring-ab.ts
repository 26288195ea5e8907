/**
 * The anomaly processor's cost per span, this tree against another checkout of hourglass
 * (`npm run bench:scoring:ab -- DIR [DIR...]`): both detectors are loaded in one process, fed the
 * same baselines and the same requests, and timed in alternating rounds, so that whatever else the
 * machine is doing weighs on both alike. Reports, per case, the median ns per span of each tree
 * and the median of the per-round ratios (this tree / the other).
 *
 * DIR is a checkout (a `git worktree add --detach DIR COMMIT` of an older main, with its own or a
 * linked node_modules); its `src/` and `test/detectors/helpers/` are imported as they are there.
 * `BENCH_ROUNDS` (default 31) rounds of `BENCH_REQUESTS` (default 200) 512-span requests per case.
 * Time is CPU time unless `BENCH_CLOCK=wall` (see `lib/ab.ts`).
 * Prints a table; nothing is asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { traceRequest } from '../test/detectors/helpers/traces.js';
import { abHeader, abRow, otherCheckouts, timePerItem, wallClock } from './lib/ab.js';
import { workload } from './lib/workload.js';

interface Detector {
  score(bytes: Uint8Array, layout?: unknown): unknown;
  accept(scored: unknown): void;
  recalculate(): Promise<unknown>;
  flush(): void;
  shutdown(): Promise<void>;
}

interface Tree {
  readonly label: string;
  readonly detector: Detector;
  readonly indexSpans: (bytes: Uint8Array) => unknown;
  readonly layoutOf: (bytes: Uint8Array) => unknown;
}

const HERE = resolve(import.meta.dirname, '..');
const others = otherCheckouts('bench:scoring:ab', 'src/detectors/anomaly/detector.ts');

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 31);
const perRound = Number(process.env['BENCH_REQUESTS'] ?? 200);
const tmp = mkdtempSync(join(tmpdir(), 'hourglass-bench-ab-'));
const now = Date.now();
const w = workload();

let loaded = 0;
async function load(root: string, label: string): Promise<Tree> {
  const from = (p: string) => import(pathToFileURL(join(root, p)).href);
  const { standaloneDetector } = await from('test/detectors/helpers/detector.ts');
  const { indexSpans } = await from('src/otlp/trace-index.ts');
  const { validateRequest } = await from('src/otlp/validate.ts');
  const detector = (await standaloneDetector(join(tmp, `${++loaded}.db`))) as Detector;
  return {
    label,
    detector,
    indexSpans,
    layoutOf: (b) => validateRequest('traces', b, { layout: true }).layout,
  };
}

const trees = [await load(HERE, 'this tree')];
for (const o of others) trees.push(await load(o.dir, o.label));

// The same baselines for every tree: 200 keys, two weeks, 30 spans per key and hour.
for (let day = 0; day < 14; day++) {
  for (let h = 0; h < 24; h++) {
    const bytes = traceRequest(w.spans(now - day * 86_400_000 - h * 3_600_000, 6000));
    for (const t of trees) t.detector.accept(t.detector.score(bytes));
  }
}
for (const t of trees) await t.detector.recalculate();

const quiet = Array.from({ length: 64 }, () => w.request(now, 512, 0, 0));
const clean = Array.from({ length: 64 }, () => w.request(now, 512, 0));
const slow = Array.from({ length: 64 }, () => w.request(now, 512, 0.01));
const layouts = trees.map((t) => clean.map((b) => t.layoutOf(b)));

const cases: { label: string; run: (t: Tree, k: number, i: number) => void }[] = [
  { label: 'indexSpans (scan only)', run: (t, _k, i) => t.indexSpans(clean[i % 64]!) },
  { label: 'score, nothing tagged', run: (t, _k, i) => t.detector.score(quiet[i % 64]!) },
  {
    label: 'score + learn, nothing tagged',
    run: (t, _k, i) => t.detector.accept(t.detector.score(quiet[i % 64]!)),
  },
  {
    label: 'score + tag + learn, clean traffic',
    run: (t, _k, i) => t.detector.accept(t.detector.score(clean[i % 64]!)),
  },
  {
    label: 'score + tag + learn, 1% 10x slower',
    run: (t, _k, i) => t.detector.accept(t.detector.score(slow[i % 64]!)),
  },
  {
    label: 'score + tag + learn, clean, from the layout',
    run: (t, k, i) => t.detector.accept(t.detector.score(clean[i % 64]!, layouts[k]![i % 64])),
  },
];

const time = (c: (typeof cases)[number], k: number) =>
  timePerItem(perRound, 512, (i) => c.run(trees[k]!, k, i));

// Warm-up: every case on every tree, so the JIT has settled for all before timing.
for (const c of cases) trees.forEach((_, k) => time(c, k));

console.log(
  `\nper span (${wallClock ? 'wall-clock' : 'CPU'} time), in process, ${rounds} alternating rounds of ${perRound} 512-span requests per case (200 keys)`,
);
console.log(abHeader(trees.map((t) => t.label)));
for (const c of cases) console.log(abRow(c.label, trees.length, rounds, (k) => time(c, k)));

for (const t of trees) {
  t.detector.flush();
  await t.detector.shutdown();
}
rmSync(tmp, { recursive: true, force: true });
