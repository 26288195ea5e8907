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
 * Prints a table; nothing is asserted.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { traceRequest } from '../test/detectors/helpers/traces.js';
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
const dirs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (dirs.length === 0 || process.argv.includes('--help')) {
  console.log(
    'usage: npm run bench:scoring:ab -- DIR [DIR...]  (DIR: another checkout of hourglass)',
  );
  process.exit(dirs.length === 0 && !process.argv.includes('--help') ? 2 : 0);
}
for (const d of dirs) {
  if (!existsSync(join(d, 'src/detectors/anomaly/detector.ts'))) {
    console.error(`${d}: not a checkout of hourglass (no src/detectors/anomaly/detector.ts)`);
    process.exit(2);
  }
}

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
for (const d of dirs) trees.push(await load(resolve(d), basename(resolve(d))));

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

const time = (c: (typeof cases)[number], t: Tree, k: number) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < perRound; i++) c.run(t, k, i);
  return Number(process.hrtime.bigint() - t0) / (perRound * 512);
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Warm-up: every case on every tree, so the JIT has settled for all before timing.
for (const c of cases) trees.forEach((t, k) => time(c, t, k));

console.log(
  `\nper span, in process, ${rounds} alternating rounds of ${perRound} 512-span requests per case (200 keys)`,
);
console.log(
  `| case | ${trees.map((t) => `${t.label} ns/span`).join(' | ')} | ${trees
    .slice(1)
    .map((t) => `this tree / ${t.label}`)
    .join(' | ')} |`,
);
console.log(
  `| --- | ${trees.map(() => '---:').join(' | ')} | ${trees
    .slice(1)
    .map(() => '---:')
    .join(' | ')} |`,
);
for (const c of cases) {
  const ns = trees.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    // Alternate the order each round, so neither tree always runs first.
    const order = r % 2 ? [...trees.keys()].reverse() : [...trees.keys()];
    for (const k of order) ns[k]!.push(time(c, trees[k]!, k));
  }
  const ratios = trees.slice(1).map((_, j) => median(ns[0]!.map((x, r) => x / ns[j + 1]![r]!)));
  console.log(
    `| ${c.label} | ${ns.map((xs) => median(xs).toFixed(0)).join(' | ')} | ${ratios
      .map((x) => `${x.toFixed(2)}x`)
      .join(' | ')} |`,
  );
}

for (const t of trees) {
  t.detector.flush();
  await t.detector.shutdown();
}
rmSync(tmp, { recursive: true, force: true });
