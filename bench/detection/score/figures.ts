import type { SeedResult } from '../play.js';
import { NOMINAL, stepRecall, type DetectorReport } from './metrics.js';

/**
 * The figures the detection issue asks for, checked on one seed's results: each with the value
 * measured, the target, and whether it holds (null: shown for information, not a target).
 */
export interface Figure {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  readonly pass: boolean | null;
}

const pct = (x: number, digits = 3) => `${(x * 100).toFixed(digits)}%`;
const MINUTE_S = 60;

export function figures(r: SeedResult): Figure[] {
  const hg = r.detectors.find((d) => d.name === 'hourglass')!;
  const out: Figure[] = [];
  const cal = hg.calibration.shares;
  for (const [cut, digits] of [
    [3, 3],
    [2, 4],
    [1, 5],
  ] as const) {
    out.push({
      name: `calibration SEV<=${cut} on clean traffic`,
      target: `<= ${pct(NOMINAL[cut - 1]!, digits)}`,
      value: pct(cal[cut - 1]!, digits),
      pass: cal[cut - 1]! <= NOMINAL[cut - 1]!,
    });
  }
  for (const [factor, cut, target] of [
    [5, 2, 0.99],
    [100, 2, 0.99],
    [2, 3, 0.9],
  ] as const) {
    const s = stepRecall(hg, factor, cut);
    out.push({
      name: `step ${factor}x tagged SEV<=${cut}`,
      target: `>= ${pct(target, 0)} of ${s.spans} spans`,
      value: pct(s.recall, 1),
      pass: s.spans > 0 && s.recall >= target,
    });
    // Per fault, the first tag after its start, or after its first affected span when that came
    // later (a call made twice a minute cannot be tagged before it is made); the worst fault.
    let worst = Number.NEGATIVE_INFINITY;
    let worstText = 'never';
    s.delays.forEach((d, k) => {
      const first = s.firstSpans[k] ?? 0;
      const delay = d === null ? Number.POSITIVE_INFINITY : d - Math.max(0, first);
      if (delay <= worst) return;
      worst = delay;
      worstText =
        d === null
          ? 'never'
          : first > 1
            ? `${d.toFixed(0)} s (first affected span at ${first.toFixed(0)} s: ${delay.toFixed(0)} s after it)`
            : `${d.toFixed(0)} s`;
    });
    out.push({
      name: `step ${factor}x first SEV<=${cut} tag after the start (worst of ${s.faults})`,
      target: `<= ${MINUTE_S} s`,
      value: worstText,
      pass: worst <= MINUTE_S,
    });
  }
  seasonality(hg, out);
  // Issue 10: tagging stops within a minute of a slowdown ending (the faulted operation's run of
  // tags after the end), for the slowdowns that end (steps, downstream faults, the night rush).
  const ended = hg.faults.filter((f) => ['step', 'downstream', 'rush-at-night'].includes(f.kind));
  if (ended.length > 0) {
    const worst = ended.reduce((w, f) => (f.lastTagAfterSeconds > w.lastTagAfterSeconds ? f : w));
    out.push({
      name: `last tag after a slowdown ends (worst of ${ended.length})`,
      target: `<= ${MINUTE_S} s`,
      value: `${worst.lastTagAfterSeconds.toFixed(0)} s (${worst.description})`,
      pass: worst.lastTagAfterSeconds <= MINUTE_S,
    });
  }
  const f1 = hg.cuts[2]!.f1;
  for (const name of ['global-3sigma', 'ewma-3sigma']) {
    const ref = r.detectors.find((d) => d.name === name)!;
    const best = Math.max(...ref.cuts.map((c) => c.f1));
    out.push({
      name: `F1 at SEV<=3 against ${name} (its best cut)`,
      target: `>= ${(best + 0.2).toFixed(3)}`,
      value: f1.toFixed(3),
      pass: f1 >= best + 0.2,
    });
  }
  return out;
}

/**
 * The seasonality figure: the latency that is normal on Monday 09:00 is not tagged SEV3 or worse
 * there, and is on Sunday 03:00. Measured on sustained traffic (all of Monday 09:00's spans; an
 * hour of Sunday 03:00 running at Monday 09:00's latency), and, for information, on isolated spans
 * at Monday 09:00's median latency.
 */
function seasonality(hg: DetectorReport, out: Figure[]): void {
  const { mondayProbes, sundayProbes, mondayClean } = hg.seasonality;
  const rush = hg.faults.find((f) => f.kind === 'rush-at-night');
  out.push({
    name: 'seasonality: Monday 09:00 traffic on Monday 09:00, SEV<=3',
    target: `<= ${pct(NOMINAL[2]!, 1)} of ${mondayClean.spans} (the clean rate)`,
    value: pct(mondayClean.tagged3, 2),
    pass: mondayClean.spans > 0 && mondayClean.tagged3 <= NOMINAL[2]!,
  });
  out.push({
    name: 'seasonality: Monday 09:00 median latency, isolated spans on Monday 09:00, SEV<=3',
    target: `none of ${mondayProbes.spans}`,
    value: pct(mondayProbes.tagged3, 1),
    pass: mondayProbes.spans > 0 && mondayProbes.tagged3 === 0,
  });
  if (rush) {
    out.push({
      name: 'seasonality: an hour of Monday 09:00 latency on Sunday 03:00, SEV<=3',
      target: `>= 90% of ${rush.targetSpans} spans`,
      value: `${pct(rush.targetRecall[2]!, 1)}, first after ${rush.firstTagSeconds[2]?.toFixed(0) ?? '-'} s`,
      pass: rush.targetSpans > 0 && rush.targetRecall[2]! >= 0.9,
    });
  }
  out.push({
    name: 'seasonality: Monday 09:00 median latency, isolated spans on Sunday 03:00, SEV<=3',
    target: `(information) of ${sundayProbes.spans}`,
    value: pct(sundayProbes.tagged3, 1),
    pass: null,
  });
}
