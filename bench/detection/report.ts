import type { SeedResult } from './play.js';
import type { Figure } from './score/figures.js';
import { NOMINAL, stepRecall, type DetectorReport } from './score/metrics.js';

/** The benchmark's tables, as Markdown (they read in a terminal and paste into a README). */

const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const f3 = (x: number) => x.toFixed(3);

function table(head: string[], rows: string[][], right = true): string {
  const align = head.map((_, i) => (i === 0 || !right ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function seedReport(r: SeedResult, figs: Figure[]): string {
  const out: string[] = [];
  const hg = r.detectors[0]!;
  out.push(
    `## seed ${r.seed}: ${r.weeks} weeks (${r.warmupWeeks} of warm-up), ${(r.spans / 1e6).toFixed(1)}M spans, ${r.operations} operations, ${r.faults.length} faults, played in ${r.seconds.toFixed(0)} s`,
  );
  out.push(
    '\nPrecision / recall / F1 per severity cut, evaluation weeks; false positives per hour:\n',
  );
  out.push(
    table(
      [
        'detector',
        ...[1, 2, 3, 4, 5].map((c) => `SEV<=${c} P / R / F1`),
        'FP/h SEV<=3',
        'FP/h SEV<=5',
      ],
      r.detectors.map((d) => [
        d.name,
        ...d.cuts.map((c) => `${f3(c.precision)} / ${f3(c.recall)} / ${f3(c.f1)}`),
        d.cuts[2]!.fpPerHour.toFixed(2),
        d.cuts[4]!.fpPerHour.toFixed(2),
      ]),
    ),
  );
  out.push(
    '\nCalibration: share of clean spans tagged at each level or worse (nominal in brackets):\n',
  );
  const calHead = ['detector', ...NOMINAL.map((n, i) => `SEV<=${i + 1} (${pct(n, 3)})`)];
  out.push(
    table(calHead, [
      ...r.detectors.map((d) => [d.name, ...d.calibration.shares.map((s) => pct(s, 4))]),
      ...hg.calibration.byWeek.map((w) => [
        `hourglass week ${w.week}${w.week <= r.warmupWeeks ? ' (warm-up)' : ''}`,
        ...w.shares.map((s) => pct(s, 4)),
      ]),
    ]),
  );
  out.push(
    '\nStep slowdowns, spans of the faulted operation: recall at SEV<=2 / SEV<=3 / SEV<=5:\n',
  );
  out.push(
    table(
      ['factor', 'spans', ...r.detectors.map((d) => d.name)],
      [1.5, 2, 5, 100].map((factor) => [
        `${factor}x`,
        String(stepRecall(hg, factor, 3).spans),
        ...r.detectors.map((d) =>
          [2, 3, 5].map((cut) => pct(stepRecall(d, factor, cut).recall, 1)).join(' / '),
        ),
      ]),
    ),
  );
  out.push(`\nEvery fault (hourglass; recall on the target's / callers' positive spans):\n`);
  out.push(faultTable(hg, r.detectors));
  const s = hg.seasonality;
  out.push(
    `\nSeasonality (${r.seasonalOp}): Monday 09:00 median latency probed on Monday 09:00: ${pct(s.mondayProbes.tagged3, 1)} of ${s.mondayProbes.spans} SEV<=3; on Sunday 03:00: ${pct(s.sundayProbes.tagged3, 1)} of ${s.sundayProbes.spans}; clean Monday 09:00 spans SEV<=3: ${pct(s.mondayClean.tagged3, 3)} of ${s.mondayClean.spans}`,
  );
  out.push(`\nFigures (seed ${r.seed}):\n`);
  out.push(figureTable(figs));
  return out.join('\n');
}

function faultTable(hg: DetectorReport, all: readonly DetectorReport[]): string {
  const refs = all.slice(1);
  const rows = hg.faults.map((f) => {
    const first = (cut: number) => {
      const t = f.firstTagSeconds[cut - 1];
      return t === null || t === undefined ? '-' : `${t.toFixed(0)} s`;
    };
    const other =
      f.kind === 'error-burst'
        ? `errors tagged SEV<=5 ${pct(f.errorTagged5, 1)} of ${f.errorSpans}`
        : f.kind === 'outage'
          ? `hour after: ${pct(f.afterTagged3, 2)} of ${f.afterSpans} SEV<=3`
          : `${pct(f.targetRecall[1]!, 1)} / ${pct(f.targetRecall[2]!, 1)} / ${pct(f.targetRecall[4]!, 1)} of ${f.targetSpans}; callers ${pct(f.callerRecall[2]!, 1)} of ${f.callerSpans}`;
    const refRecall = refs.map((d) => {
      const g = d.faults[f.id]!;
      if (f.kind === 'error-burst') return pct(g.errorTagged5, 1);
      if (f.kind === 'outage') return pct(g.afterTagged3, 2);
      return pct(g.targetRecall[2]!, 1);
    });
    return [
      f.description,
      other,
      `${first(5)} / ${first(3)} (first span ${f.firstSpanSeconds?.toFixed(0) ?? '-'} s)`,
      `${pct(f.afterTagged3, 2)} of ${f.afterSpans}`,
      f.kind === 'step' || f.kind === 'downstream' || f.kind === 'rush-at-night'
        ? `${f.lastTagAfterSeconds.toFixed(0)} s`
        : '-',
      ...refRecall,
    ];
  });
  return table(
    [
      'fault',
      'hourglass SEV<=2 / <=3 / <=5',
      'first tag SEV<=5 / <=3',
      'hour after: SEV<=3',
      'last tag after the end',
      ...refs.map((d) => `${d.name} SEV<=3`),
    ],
    rows,
    false,
  );
}

export function figureTable(figs: readonly Figure[]): string {
  return table(
    ['figure', 'target', 'measured', ''],
    figs.map((f) => [f.name, f.target, f.value, f.pass === null ? '' : f.pass ? 'ok' : 'MISSED']),
    false,
  );
}
