/**
 * `npm run bench:detection`: detection quality of the `anomaly` processor against the simple
 * detectors peers ship, on simulated seasonal traffic with injected faults (README.md here).
 *
 *   npm run bench:detection                 # seeds 1, 2, 3; 5 weeks each (2 of warm-up)
 *   npm run bench:detection -- --quick      # seed 1, 3 weeks: for iterating
 *   npm run bench:detection -- --seeds 4,5 --weeks 6 --out /tmp/detection.json
 *   npm run bench:detection -- --rates      # the error and traffic detectors (rates/), 3 weeks
 *   npm run bench:detection -- --quick --set '{"incidents":{"open_after":"0s"}}'  # other settings
 *   npm run bench:detection -- --quick --incidents '{"0s":{"open_after":"0s"}}'  # beside them
 *
 * Prints Markdown tables per seed and the figures of the issue, and writes every number as JSON
 * (default `bench/results/detection.json`). Nothing is asserted: this measures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  anomalySettings,
  benchArgs,
  jsonOption,
  positiveNumberOption,
  usageError,
  wholeNumberOption,
  wholeNumbersOption,
} from '../lib/args.js';
import { runSeed, type SeedResult } from './play.js';
import { figureTable, seedReport } from './report.js';
import { figures, type Figure } from './score/figures.js';
import { breakdownReport } from './score/incident-breakdown.js';
import { incidentTable } from './score/incidents.js';

const values = benchArgs(
  'bench:detection',
  `usage: npm run bench:detection -- [options]

Detection quality of the anomaly processor on simulated seasonal traffic with injected faults,
against the simple detectors peers ship (bench/detection/README.md).
  --quick                 seed 1, 3 weeks: for iterating
  --seeds 1,2,3           the seeds (default 1,2,3; with --quick, 1)
  --weeks N               weeks per seed, warm-up included (default 5; with --quick, 3)
  --rates                 the error and traffic detectors instead
  --set JSON              the anomaly processor's settings (as in otel-config.yaml)
  --incidents '{"name":JSON}'  other incident settings scored beside them`,
  {
    quick: { type: 'boolean', default: false },
    seeds: { type: 'string' },
    weeks: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    volume: { type: 'string', default: '0.12' },
    out: { type: 'string' },
    rates: { type: 'boolean', default: false },
    set: { type: 'string' },
    incidents: { type: 'string' },
  },
);

// Every value is checked before anything is played: a bad one names its option.
const SCRIPT = 'bench:detection';
const seeds = wholeNumbersOption(SCRIPT, 'seeds', values.seeds ?? (values.quick ? '1' : '1,2,3'));
const weeks = wholeNumberOption(
  SCRIPT,
  'weeks',
  values.weeks ?? (values.rates || values.quick ? '3' : '5'),
  1,
);
const warmupWeeks = wholeNumberOption(SCRIPT, 'warmup', values.warmup);
const volume = positiveNumberOption(SCRIPT, 'volume', values.volume);
if (weeks <= warmupWeeks) {
  usageError(SCRIPT, `--weeks ${weeks} leaves nothing after --warmup ${warmupWeeks}: give more`);
}

if (values.rates) {
  const { runRates } = await import('./rates/run-rates.js');
  await runRates(seeds, weeks, warmupWeeks, values.out ?? 'bench/results/detection-rates.json');
  process.exit(0);
}

// Validated before any seed is played (the simulator's hourglass adds its storage and flush).
const settings = values.set === undefined ? undefined : anomalySettings(SCRIPT, values.set).json;
const incidentVariants =
  values.incidents === undefined
    ? undefined
    : jsonOption<Record<string, Record<string, unknown>>>(SCRIPT, 'incidents', values.incidents);

const results: { result: SeedResult; figures: Figure[] }[] = [];
for (const seed of seeds) {
  const result = await runSeed({
    seed,
    weeks,
    warmupWeeks,
    volume,
    intervalMs: 10_000,
    ...(incidentVariants === undefined ? {} : { incidentVariants }),
    ...(settings === undefined ? {} : { hourglass: settings }),
    progress: (line) => console.error(line),
  });
  const figs = figures(result);
  results.push({ result, figures: figs });
  console.log(`\n${seedReport(result, figs)}\n`);
}

if (results.length > 1) {
  console.log('## Figures on every seed\n');
  const names = results[0]!.figures.map((f) => f.name);
  const rows = names.map((name, i) => ({
    name,
    target: results[0]!.figures[i]!.target,
    value: results.map((r) => `${r.result.seed}: ${r.figures[i]!.value}`).join(', '),
    pass: results.some((r) => r.figures[i]!.pass === null)
      ? null
      : results.every((r) => r.figures[i]!.pass),
  }));
  console.log(figureTable(rows));
}

console.log('\n## Incidents (issue 13; score/incidents.ts)\n');
const rows = results.flatMap(({ result: r }) => [
  { seed: String(r.seed), incidents: r.incidents, incidentBreakdown: r.incidentBreakdown },
  ...r.incidentVariants.map((v) => ({ ...v, seed: `${r.seed} (${v.name})` })),
]);
console.log(incidentTable(rows));
for (const r of rows) console.log(`\n${breakdownReport(r.seed, r.incidentBreakdown)}`);

const out = values.out ?? 'bench/results/detection.json';
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({ generatedAt: new Date().toISOString(), seeds: results }, null, 2),
);
console.log(`\nwrote ${out}`);
