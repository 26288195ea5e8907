/**
 * The span scan (`indexSpans`, and `indexFromLayout` from a recorded layout), this tree against
 * other checkouts of hourglass (`npm run bench:index:ab -- DIR [DIR...]`): each tree's `src/` is
 * imported as it is there, fed the same requests and timed in alternating rounds, so that
 * whatever else the machine is doing weighs on all alike. Reports, per case, the median time per
 * span of each tree and the median of the per-round ratios (this tree / the other).
 *
 * Two phases. First the scan alone, then the same after each tree's validator (recording the
 * layout) and its anomaly detector (score, tag, learn) have run over the requests, as in the
 * sidecar, where the scan shares the wire readers with them and V8's feedback at those call sites
 * is what all their callers gave it.
 *
 * Time is CPU time unless `BENCH_CLOCK=wall` (see `lib/ab.ts`). `BENCH_ROUNDS` (default 31)
 * rounds of `BENCH_REQUESTS` (default 64) requests of 512 spans (the workload of
 * `bench/lib/workload.ts`). Prints a table; nothing is asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { abHeader, abRow, otherCheckouts, timePerItem, wallClock } from './lib/ab.js';
import { envWholeNumber } from './lib/args.js';
import { workload } from './lib/workload.js';

interface Detector {
  score(bytes: Uint8Array, layout?: unknown): unknown;
  accept(scored: unknown): void;
  shutdown(): Promise<void>;
}

interface Tree {
  readonly label: string;
  readonly root: string;
  readonly indexSpans: (bytes: Uint8Array) => { spans: readonly unknown[] };
  readonly indexFromLayout: (layout: unknown) => { spans: readonly unknown[] };
  readonly layoutOf: (bytes: Uint8Array) => unknown;
}

const HERE = resolve(import.meta.dirname, '..');
const others = otherCheckouts('bench:index:ab', 'src/otlp/trace-index.ts');

const rounds = envWholeNumber('bench:index:ab', 'BENCH_ROUNDS', 31);
const perRound = envWholeNumber('bench:index:ab', 'BENCH_REQUESTS', 64);
const from = (root: string, p: string) => import(pathToFileURL(join(root, p)).href);

async function load(root: string, label: string): Promise<Tree> {
  const { indexSpans, indexFromLayout } = await from(root, 'src/otlp/trace-index.ts');
  const { validateRequest } = await from(root, 'src/otlp/validate.ts');
  return {
    label,
    root,
    indexSpans,
    indexFromLayout,
    layoutOf: (b) => validateRequest('traces', b, { layout: true }).layout,
  };
}

const trees = [await load(HERE, 'this tree')];
for (const o of others) trees.push(await load(o.dir, o.label));

const w = workload();
const now = Date.now();
const requests = Array.from({ length: perRound }, () => w.request(now, 512, 0));
const layouts = trees.map((t) => requests.map((b) => t.layoutOf(b)));
// Every tree must find every span, or the comparison means nothing.
for (const t of trees) {
  const n = requests.reduce((s, b) => s + t.indexSpans(b).spans.length, 0);
  if (n !== perRound * 512)
    throw new Error(`${t.label}: indexSpans found ${n} spans, not ${perRound * 512}`);
}

const cases: { label: string; run: (t: Tree, k: number, i: number) => void }[] = [
  { label: 'indexSpans', run: (t, _k, i) => t.indexSpans(requests[i]!) },
  { label: 'indexFromLayout', run: (t, k, i) => t.indexFromLayout(layouts[k]![i]) },
];

const time = (c: (typeof cases)[number], k: number) =>
  timePerItem(perRound, 512, (i) => c.run(trees[k]!, k, i));

function measure(phase: string): void {
  // Warm-up: every case on every tree, so the JIT has settled for all before timing.
  for (let i = 0; i < 10; i++) for (const c of cases) trees.forEach((_, k) => time(c, k));
  for (const c of cases)
    console.log(abRow(`${c.label}, ${phase}`, trees.length, rounds, (k) => time(c, k)));
}

console.log(
  `\nper span (${wallClock ? 'wall-clock' : 'CPU'} time), ${rounds} alternating rounds of ${perRound} 512-span requests per case`,
);
console.log(abHeader(trees.map((t) => t.label)));
measure('alone');

// Each tree's detector scores, tags and learns the requests (and validation records their
// layouts), as in the sidecar; then the scan is timed again.
const tmp = mkdtempSync(join(tmpdir(), 'hourglass-bench-index-ab-'));
const detectors: Detector[] = [];
for (const [k, t] of trees.entries()) {
  const { standaloneDetector } = await from(t.root, 'test/detectors/helpers/detector.ts');
  const d = (await standaloneDetector(join(tmp, `${k}.db`))) as Detector;
  detectors.push(d);
  for (let i = 0; i < 20; i++) {
    for (const [j, b] of requests.entries()) {
      d.accept(d.score(b));
      d.accept(d.score(b, layouts[k]![j]));
      t.layoutOf(b);
    }
  }
}
measure('after the detector ran');
for (const d of detectors) await d.shutdown();
rmSync(tmp, { recursive: true, force: true });
