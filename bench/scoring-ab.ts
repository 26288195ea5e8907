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
 * Time is CPU time unless `BENCH_CLOCK=wall` (see `lib/ab.ts`). `BENCH_SETTINGS` (JSON) sets this
 * tree's anomaly processor settings, e.g. `{"errors":{"enabled":false},"traffic":{"enabled":false}}`
 * to see what the error and traffic detectors cost; the other trees keep their defaults.
 *
 * Time is simulated, as the sidecar lives it: each detector runs on its own `ManualClock`, and
 * every call of a case on a tree moves its clock and the requests' spans on by `stepMs` (the spans
 * restamped in place, outside the timed rounds), so that the spans always end a few seconds before
 * the clock, in a minute the error and traffic detectors still count. The traffic detector has a
 * baseline of the same hour (an hour of the same traffic the day before), so it judges every span
 * for a surge, as a sidecar does after its first hour; the traffic is the same, so none is tagged
 * (checked after the warm-up). Before, the spans were stamped once and the detectors ran on the
 * system clock: about two minutes into the run the rate detectors found them late and skipped
 * them, and the later cases measured a cheaper path than the sidecar's.
 * Prints a table; nothing is asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ManualClock } from '../src/component/manual-clock.js';
import { traceRequest } from '../test/detectors/helpers/traces.js';
import { abHeader, abRow, otherCheckouts, timePerItem, wallClock } from './lib/ab.js';
import { anomalySettings, envWholeNumber } from './lib/args.js';
import { Restamper } from './lib/restamp.js';
import { workload } from './lib/workload.js';

interface Scored {
  readonly anomalies?: readonly { readonly detector: string }[];
}

interface Detector {
  score(bytes: Uint8Array, layout?: unknown): Scored;
  accept(scored: Scored): void;
  recalculate(): Promise<unknown>;
  flush(): void;
  shutdown(): Promise<void>;
}

interface Tree {
  readonly label: string;
  readonly detector: Detector;
  readonly clock: ManualClock;
  /** Detector calls of a case made so far: the tree's simulated time. */
  calls: number;
  readonly indexSpans: (bytes: Uint8Array) => unknown;
  readonly layoutOf: (bytes: Uint8Array) => unknown;
}

const HERE = resolve(import.meta.dirname, '..');
const others = otherCheckouts('bench:scoring:ab', 'src/detectors/anomaly/detector.ts');

const rounds = envWholeNumber('bench:scoring:ab', 'BENCH_ROUNDS', 31);
const perRound = envWholeNumber('bench:scoring:ab', 'BENCH_REQUESTS', 200);
const settingsText = process.env['BENCH_SETTINGS'];
const settings = settingsText
  ? anomalySettings('bench:scoring:ab', settingsText, 'BENCH_SETTINGS').json
  : {};
const tmp = mkdtempSync(join(tmpdir(), 'hourglass-bench-ab-'));
const w = workload();

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** A request's spans end within this before `aroundMs` (an SDK batch's delay: 5 s)... */
const SPREAD_MS = 5_000;
/** ... and are scored this long after it. */
const ARRIVAL_MS = 1_000;
/** Cases that call the detector, and the calls made of each: warm-up and rounds. */
const DETECTION_CASES = 5;
const calls = (rounds + 1) * DETECTION_CASES;
/**
 * Simulated time per call: at most 10 s, and the whole run within 50 minutes of one hour, so
 * that every case is judged against the same baselines (a new hour has none of its own yet).
 */
const stepMs = Math.min(10_000, Math.floor((50 * MINUTE_MS) / calls / 1000) * 1000);
/** The run's first request: 5 minutes into an hour; the traffic baseline: that hour a day before. */
const t0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 5 * MINUTE_MS;
const trainFrom = t0 - DAY_MS - 5 * MINUTE_MS;
/** Learned minutes an hour's traffic baseline needs (rate-detector.ts), and a margin. */
const trainCalls = Math.ceil((62 * MINUTE_MS) / stepMs);

let loaded = 0;
async function load(root: string, label: string, own: object = {}): Promise<Tree> {
  const from = (p: string) => import(pathToFileURL(join(root, p)).href);
  const { standaloneDetector } = await from('test/detectors/helpers/detector.ts');
  const { indexSpans } = await from('src/otlp/trace-index.ts');
  const { validateRequest } = await from('src/otlp/validate.ts');
  const clock = new ManualClock(trainFrom);
  const detector = (await standaloneDetector(join(tmp, `${++loaded}.db`), own, clock)) as Detector;
  return {
    label,
    detector,
    clock,
    calls: 0,
    indexSpans,
    layoutOf: (b) => validateRequest('traces', b, { layout: true }).layout,
  };
}

const trees = [
  await load(HERE, settingsText ? 'this tree (BENCH_SETTINGS)' : 'this tree', settings),
];
for (const o of others) trees.push(await load(o.dir, o.label));

/** A set of 64 requests, all stamped around `stampedAt` and moved on together. */
class RequestSet {
  readonly requests: Uint8Array[];
  private readonly restamper: Restamper;
  private stampedAt: number;

  constructor(slowShare: number, sigma?: number) {
    this.requests = Array.from({ length: 64 }, () =>
      w.request(trainFrom, 512, slowShare, sigma, SPREAD_MS),
    );
    this.restamper = new Restamper(this.requests);
    this.stampedAt = trainFrom;
  }

  /** The request `i`, its spans ending within SPREAD_MS before `aroundMs`. */
  at(aroundMs: number): this {
    if (aroundMs !== this.stampedAt) {
      this.restamper.shift(aroundMs - this.stampedAt);
      this.stampedAt = aroundMs;
    }
    return this;
  }
}

const quiet = new RequestSet(0, 0);
const clean = new RequestSet(0);
const slow = new RequestSet(0.01);
const layouts = trees.map((t) => clean.requests.map((b) => t.layoutOf(b)));

/** Moves `t`'s clock to its next call, starting at `from`, and returns the requests' time. */
function nextCall(t: Tree, from: number): number {
  const aroundMs = from + t.calls++ * stepMs;
  t.clock.set(aroundMs + ARRIVAL_MS);
  return aroundMs;
}

// The traffic baseline: an hour of the bench's traffic (its three sets in turn) the day before,
// learned minute by minute, so that the rate detectors judge every span for a surge.
for (let n = 0; n < trainCalls; n++) {
  const set = [quiet, clean, slow][n % 3]!;
  for (const t of trees) {
    set.at(nextCall(t, trainFrom));
    for (let i = 0; i < perRound; i++) t.detector.accept(t.detector.score(set.requests[i % 64]!));
  }
}
// The latency baselines: 200 keys, two weeks, 30 spans per key and hour.
for (let day = 0; day < 14; day++) {
  for (let h = 0; h < 24; h++) {
    const bytes = traceRequest(w.spans(t0 - day * DAY_MS - h * HOUR_MS, 6000));
    for (const t of trees) t.detector.accept(t.detector.score(bytes));
  }
}
for (const t of trees) {
  await t.detector.recalculate();
  t.calls = 0;
}

const cases: {
  label: string;
  set: RequestSet | undefined;
  run: (t: Tree, k: number, i: number) => Scored | unknown;
}[] = [
  {
    label: 'indexSpans (scan only)',
    set: undefined,
    run: (t, _k, i) => t.indexSpans(clean.requests[i % 64]!),
  },
  {
    label: 'score, nothing tagged',
    set: quiet,
    run: (t, _k, i) => t.detector.score(quiet.requests[i % 64]!),
  },
  {
    label: 'score + learn, nothing tagged',
    set: quiet,
    run: (t, _k, i) => {
      const s = t.detector.score(quiet.requests[i % 64]!);
      t.detector.accept(s);
      return s;
    },
  },
  {
    label: 'score + tag + learn, clean traffic',
    set: clean,
    run: (t, _k, i) => {
      const s = t.detector.score(clean.requests[i % 64]!);
      t.detector.accept(s);
      return s;
    },
  },
  {
    label: 'score + tag + learn, 1% 10x slower',
    set: slow,
    run: (t, _k, i) => {
      const s = t.detector.score(slow.requests[i % 64]!);
      t.detector.accept(s);
      return s;
    },
  },
  {
    label: 'score + tag + learn, clean, from the layout',
    set: clean,
    run: (t, k, i) => {
      const s = t.detector.score(clean.requests[i % 64]!, layouts[k]![i % 64]);
      t.detector.accept(s);
      return s;
    },
  },
];

/** Moves the tree to its next call when the case calls the detector (outside the timing). */
function prepare(c: (typeof cases)[number], t: Tree): void {
  if (c.set !== undefined) c.set.at(nextCall(t, t0));
}

const time = (c: (typeof cases)[number], k: number) => {
  prepare(c, trees[k]!);
  return timePerItem(perRound, 512, (i) => c.run(trees[k]!, k, i));
};

// Warm-up: every case on every tree, so the JIT has settled for all before timing; the tags it
// makes are counted, by detector (the error and traffic detectors must tag none: same traffic).
const tags = trees.map(() => new Map<string, number>());
for (const c of cases) {
  trees.forEach((t, k) => {
    prepare(c, t);
    for (let i = 0; i < perRound; i++) {
      const s = c.run(t, k, i) as Scored;
      for (const a of s?.anomalies ?? [])
        tags[k]!.set(a.detector, (tags[k]!.get(a.detector) ?? 0) + 1);
    }
  });
}

console.log(
  `\nper span (${wallClock ? 'wall-clock' : 'CPU'} time), in process, ${rounds} alternating rounds of ${perRound} 512-span requests per case (200 keys); ${stepMs / 1000} s of simulated time per call`,
);
console.log(
  `tags in the warm-up, by detector: ${trees.map((t, k) => `${t.label} ${[...tags[k]!].map(([d, n]) => `${d} ${n}`).join(', ') || 'none'}`).join('; ')}`,
);
if (tags.some((m) => m.has('traffic') || m.has('errors'))) {
  console.log(
    'WARNING: the error or traffic detector tagged spans: the cases are not what they say',
  );
}
console.log(abHeader(trees.map((t) => t.label)));
for (const c of cases) console.log(abRow(c.label, trees.length, rounds, (k) => time(c, k)));

for (const t of trees) {
  t.detector.flush();
  await t.detector.shutdown();
}
rmSync(tmp, { recursive: true, force: true });
