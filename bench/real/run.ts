/**
 * `npm run bench:real`: `hourglass replay` over the real traces of the Nezha dataset
 * (IntelligentDDS, MIT; OnlineBoutique and TrainTicket with injected faults), read from
 * `../shared/datasets/nezha` (or `--data PATH`), never from the repository. Each day is judged
 * after its history (README.md here), in two states: after a recalculation of thresholds, and as
 * a fresh install before its first night (no recalculation). Prints the issue's figures per day
 * beside the simulator's (`npm run bench:detection -- --quick`), and writes every number as JSON.
 *
 *   npm run bench:real
 *   npm run bench:real -- --days 2023-01-29 --no-sim --verbose
 *   npm run bench:real -- --no-sim --set '{"incidents":{"open_after":"0s"}}'  # other settings
 *   npm run bench:real -- --no-sim --incidents '{"literal":{"sev1_confirm_within":"0s"}}'  # beside them
 *   npm run bench:real -- --no-sim --no-fresh --restart-every 30m  # a sidecar restarted every 30 min
 *   npm run bench:real -- --no-sim --no-fresh --thin-history  # after the fault-free sample only
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDuration } from '../../src/config/duration.js';
import { readFaultList } from '../../src/detectors/anomaly/replay/faults.js';
import { formatScoring, markdownTable } from '../../src/detectors/anomaly/replay/format.js';
import { replay } from '../../src/detectors/anomaly/replay/replay.js';
import { scoreReplay, type Scoring } from '../../src/detectors/anomaly/replay/score.js';
import { runSeed } from '../detection/play.js';
import { anomalySettings, benchArgs, jsonOption, usageError } from '../lib/args.js';
import { openingRule } from '../../src/detectors/anomaly/replay/unmatched.js';
import { figures } from '../detection/score/figures.js';
import { DAYS, missing, negativesOf, type Day } from './days.js';
import { realFigures, type RealFigure } from './figures.js';
import { incidentTable, unmatchedTable } from './incident-figures.js';
import { whyMissed } from './missed.js';

const values = benchArgs(
  'bench:real',
  `usage: npm run bench:real -- [options]

Replays the Nezha dataset's real traces (read from --data, never from the repository) through
\`hourglass replay\` and prints issue 11's and issue 13's figures per day (bench/real/README.md).
  --days 2023-01-29            one day (comma-separated: several)
  --no-sim                     without the simulator's figures beside them
  --no-fresh                   only the state after a recalculation, not the fresh install
  --set JSON                   the anomaly processor's settings (as in otel-config.yaml)
  --incidents '{"name":JSON}'  other incident settings scored beside them, on the same replay
  --restart-every 30m          the sidecar restarted this often (a new one on the same database)
  --thin-history               history: the fault-free sample only, not the other days' negatives`,
  {
    data: { type: 'string', default: '../shared/datasets/nezha' },
    days: { type: 'string' },
    'no-sim': { type: 'boolean', default: false },
    'no-fresh': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/real.json' },
    set: { type: 'string', default: '{}' },
    incidents: { type: 'string', default: '{}' },
    'restart-every': { type: 'string' },
    'thin-history': { type: 'boolean', default: false },
  },
);

const HISTORY_SHIFT_MS = -7 * 86_400_000;
const settings = anomalySettings('bench:real', values.set).config;
const incidentVariants = jsonOption<Record<string, Record<string, unknown>>>(
  'bench:real',
  'incidents',
  values.incidents,
);
const restartEveryMs = restartInterval(values['restart-every']);

/** `--restart-every`, in ms (0: never restarted). */
function restartInterval(text: string | undefined): number {
  const ms = text === undefined ? 0 : parseDuration(text);
  if (ms !== undefined) return ms;
  return usageError('bench:real', `--restart-every "${text}" is not a duration (e.g. 30m)`);
}
const data = resolve(values.data);
const wanted = values.days?.split(',') ?? DAYS.map((d) => d.day);
const days = DAYS.filter((d) => wanted.includes(d.day));
const unknown = wanted.filter((w) => !DAYS.some((d) => d.day === w));
if (unknown.length > 0) {
  const all = DAYS.map((d) => d.day).join(', ');
  usageError('bench:real', `--days: no such day: ${unknown.join(', ')} (the days: ${all})`);
}

if (!existsSync(data)) {
  console.log(
    `bench:real skipped: the Nezha dataset is not at ${data} (give --data PATH; it stays outside the repository)`,
  );
  process.exit(0);
}
const runnable = days.filter((d) => {
  const gone = missing(data, d);
  if (gone.length > 0) console.log(`${d.day} skipped: missing ${gone.join(', ')} under ${data}`);
  return gone.length === 0;
});
if (runnable.length === 0) {
  console.log('bench:real skipped: no day has all its files');
  process.exit(0);
}

interface DayResult {
  readonly day: string;
  readonly state: 'recalculated' | 'fresh install';
  readonly seconds: number;
  readonly scoring: Scoring;
  readonly figures: RealFigure[];
  /** Which rule opened the incidents: the faults' first ones, and those matching no fault. */
  readonly openedBy: { readonly faults: Rules; readonly unmatched: Rules };
  /** Why each latency fault without an incident has none (missed.ts). */
  readonly missed: string[];
  /** The same incident figures for each of `--incidents` (other settings, the same replay). */
  readonly variants: readonly {
    readonly name: string;
    readonly scoring: Scoring;
    readonly openedBy: DayResult['openedBy'];
    readonly missed: string[];
  }[];
}

type Rules = Record<string, number>;

function openedBy(
  run: Awaited<ReturnType<typeof replay>>,
  scoring: Scoring,
): DayResult['openedBy'] {
  const matched = new Set(scoring.incidents.faults.flatMap((f) => f.ids));
  const first = new Set(scoring.incidents.faults.map((f) => f.ids[0]));
  const faults: Rules = {};
  const unmatched: Rules = {};
  for (const v of run.incidents) {
    const into = first.has(v.id) ? faults : matched.has(v.id) ? undefined : unmatched;
    if (into) into[openingRule(v)] = (into[openingRule(v)] ?? 0) + 1;
  }
  return { faults, unmatched };
}

async function judge(d: Day, recalculate: boolean): Promise<DayResult> {
  const started = performance.now();
  const run = await replay({
    config: settings,
    files: [join(data, d.day, 'trace')],
    history: [join(data, d.faultFree)],
    historyTable: values['thin-history'] ? undefined : negativesOf(data, d.otherDays),
    historyShiftMs: HISTORY_SHIFT_MS,
    recalculate,
    incidentVariants,
    restartEveryMs,
  });
  const { faults } = readFaultList(join(data, d.day, 'fault_list.json'));
  const scoring = scoreReplay(run, faults);
  const result: DayResult = {
    day: d.day,
    state: recalculate ? 'recalculated' : 'fresh install',
    seconds: (performance.now() - started) / 1000,
    scoring,
    figures: realFigures(scoring),
    openedBy: openedBy(run, scoring),
    missed: whyMissed(scoring, run.incidents, run.shiftMs),
    variants: run.variants.map((v) => {
      const r = { ...run, ...v };
      const s = scoreReplay(r, faults);
      return {
        name: v.name,
        scoring: s,
        openedBy: openedBy(r, s),
        missed: whyMissed(s, v.incidents, run.shiftMs),
      };
    }),
  };
  const restarts = `${restartEveryMs > 0 ? `, restarted every ${values['restart-every']}` : ''}${values['thin-history'] ? ', thin history' : ''}`;
  console.error(
    `${d.day} (${d.system}, ${result.state}${restarts}): ${result.seconds.toFixed(0)} s`,
  );
  if (values.verbose) console.log(`\n### ${d.day}, ${result.state}\n\n${formatScoring(scoring)}\n`);
  return result;
}

const results: DayResult[] = [];
for (const state of values['no-fresh'] ? [true] : [true, false]) {
  for (const d of runnable) results.push(await judge(d, state));
}

console.log(
  '\n## Real traffic: Nezha (IntelligentDDS, MIT), OnlineBoutique and TrainTicket with injected faults\n',
);
for (const state of ['recalculated', 'fresh install'] as const) {
  const rows = results.filter((r) => r.state === state);
  if (rows.length === 0) continue;
  console.log(
    `\n### ${state === 'recalculated' ? 'After history and a recalculation' : 'Fresh install: history, no recalculation'}${restartEveryMs > 0 ? `, the sidecar restarted every ${values['restart-every']}` : ''}${values['thin-history'] ? ', history: the fault-free sample only' : ''}\n`,
  );
  const names = rows[0]!.figures.map((f) => f.name);
  console.log(
    markdownTable(
      ['figure', 'target', ...rows.map((r) => r.day)],
      names.map((name, k) => [
        name,
        rows[0]!.figures[k]!.target.replace(/ \(.*/, ''),
        ...rows.map((r) => {
          const f = r.figures[k]!;
          return `${f.pass === false ? '**' : ''}${f.value}${f.pass === false ? '**' : ''}${k >= 4 ? ` (target ${f.target.replace(/ \(.*/, '')})` : ''}`;
        }),
      ]),
      false,
    ),
  );
  console.log(`\nIncidents (issue 13; replay/incident-score.ts):\n`);
  const incidents = rows.map((r) => ({ day: r.day, scoring: r.scoring.incidents }));
  console.log(incidentTable(incidents));
  console.log('\nThe incidents matching no fault, classified (replay/unmatched.ts):\n');
  console.log(unmatchedTable(incidents));
  console.log('\nWhat opened them (score/incident-breakdown.ts):\n');
  const text = (r: Rules) =>
    Object.entries(r)
      .sort()
      .map(([rule, n]) => `${rule} ${n}`)
      .join(', ') || '-';
  console.log(
    markdownTable(
      ['day', "faults' first incidents", 'incidents matching no fault'],
      rows.map((r) => [r.day, text(r.openedBy.faults), text(r.openedBy.unmatched)]),
      false,
    ),
  );
  console.log('\nLatency faults without an incident, and why (missed.ts):\n');
  for (const r of rows) for (const m of r.missed) console.log(`- ${r.day} ${m}`);
  for (const [k, v] of (rows[0]?.variants ?? []).entries()) {
    console.log(`\nIncidents with \`--incidents\` ${v.name}:\n`);
    const vs = rows.map((r) => ({ day: r.day, ...r.variants[k]! }));
    const vi = vs.map((r) => ({ day: r.day, scoring: r.scoring.incidents }));
    console.log(incidentTable(vi));
    console.log('');
    console.log(unmatchedTable(vi));
    console.log('');
    console.log(
      markdownTable(
        ['day', "faults' first incidents", 'incidents matching no fault'],
        vs.map((r) => [r.day, text(r.openedBy.faults), text(r.openedBy.unmatched)]),
        false,
      ),
    );
    for (const r of vs) for (const m of r.missed) console.log(`- ${r.day} ${m}`);
  }
}

let simulator;
if (!values['no-sim']) {
  console.error('simulator: seed 1, 3 weeks (npm run bench:detection -- --quick)');
  const result = await runSeed({
    seed: 1,
    weeks: 3,
    warmupWeeks: 2,
    volume: 0.12,
    intervalMs: 10_000,
  });
  simulator = figures(result);
  console.log('\n### Simulator (npm run bench:detection -- --quick: seed 1, 3 weeks)\n');
  console.log(
    markdownTable(
      ['figure', 'target', 'measured'],
      simulator.map((f) => [f.name, f.target, f.pass === false ? `**${f.value}**` : f.value]),
      false,
    ),
  );
}

mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(
  values.out,
  JSON.stringify(
    { generatedAt: new Date().toISOString(), data, days: results, simulator },
    null,
    2,
  ),
);
console.log(`\nwrote ${values.out}`);
