import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { runRatesSeed, type RatesSeedResult } from './play-rates.js';

const pct = (n: number, d: number) =>
  d > 0 ? `${((100 * n) / d).toFixed(d > 100_000 ? 4 : 1)}%` : 'n/a';
const sec = (s: number) => (Number.isFinite(s) ? `${Math.round(s)} s` : 'never');

/**
 * `npm run bench:detection -- --rates`: the error and traffic detectors on their own simulated
 * shop (rates/sim.ts), with the faults of issue 14. Prints per seed the faults' recall and time to
 * the first tag (or the drop's record), and each detector's calibration on clean traffic; writes
 * every number as JSON.
 */
export async function runRates(
  seeds: number[],
  weeks: number,
  warmupWeeks: number,
  out: string,
): Promise<void> {
  const results: RatesSeedResult[] = [];
  for (const seed of seeds) {
    const r = await runRatesSeed(seed, weeks, warmupWeeks, (line) => console.error(line));
    results.push(r);
    console.log(report(r));
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ generatedAt: new Date().toISOString(), seeds: results }, null, 2),
  );
  console.log(`\nwrote ${out}`);
}

function report(r: RatesSeedResult): string {
  const lines = [
    `\n## Seed ${r.seed}: ${r.spans.toLocaleString('en')} spans evaluated (${r.clean.toLocaleString('en')} clean), ${Math.round(r.seconds)} s\n`,
    '| fault | operation | minutes | positives | SEV<=3 | SEV<=2 | first SEV<=3 tag / drop record |',
    '| --- | --- | --: | --: | --: | --: | --: |',
  ];
  for (const f of r.faults) {
    const what =
      f.fault.kind === 'error-burst'
        ? `error burst to ${f.fault.factor * 100}%`
        : f.fault.kind === 'retry-storm'
          ? `retry storm ${f.fault.factor}x`
          : f.fault.kind === 'dependency-down'
            ? 'dependency failing fast'
            : `flow stops${f.dropSeverity ? ` (SEV${f.dropSeverity})` : ''}`;
    lines.push(
      `| ${what} | ${f.op} | ${(f.fault.to - f.fault.from) / 60_000} | ${f.positives} | ${pct(f.sev3, f.positives)} | ${pct(f.sev2, f.positives)} | ${sec(f.firstSec)} |`,
    );
  }
  lines.push(
    '',
    '| clean spans tagged by | SEV<=5 | SEV<=3 (<= 0.1%) | SEV<=2 |',
    '| --- | --: | --: | --: |',
  );
  for (const [d, [a, b, c]] of Object.entries(r.cleanTagged)) {
    lines.push(`| ${d} | ${pct(a, r.clean)} | ${pct(b, r.clean)} | ${pct(c, r.clean)} |`);
  }
  lines.push(
    '',
    `drops recorded outside the stopped flows: ${r.falseDrops} (SEV<=3: ${r.falseDropsSev3}); in always-quiet hours: ${r.quietDrops}`,
  );
  return lines.join('\n');
}
