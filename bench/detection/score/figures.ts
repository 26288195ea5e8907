import type { SeedResult } from '../play.js';
import { NOMINAL, stepRecall } from './metrics.js';

/**
 * The figures the detection issue asks for, checked on one seed's results: each with the value
 * measured, the target, and whether it holds.
 */
export interface Figure {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  readonly pass: boolean;
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
    const worst = s.delays.reduce<number>(
      (m, d) => Math.max(m, d ?? Number.POSITIVE_INFINITY),
      Number.NEGATIVE_INFINITY,
    );
    out.push({
      name: `step ${factor}x first SEV<=${cut} tag after the start (worst of ${s.faults})`,
      target: `<= ${MINUTE_S} s`,
      value: Number.isFinite(worst) ? `${worst.toFixed(0)} s` : 'never',
      pass: worst <= MINUTE_S,
    });
  }
  const { mondayProbes, sundayProbes } = hg.seasonality;
  out.push({
    name: 'seasonality: Monday 09:00 rush latency on Monday 09:00, SEV<=3',
    target: `none of ${mondayProbes.spans}`,
    value: pct(mondayProbes.tagged3, 1),
    pass: mondayProbes.spans > 0 && mondayProbes.tagged3 === 0,
  });
  out.push({
    name: 'seasonality: the same latency on Sunday 03:00, SEV<=3',
    target: `all of ${sundayProbes.spans}`,
    value: pct(sundayProbes.tagged3, 1),
    pass: sundayProbes.spans > 0 && sundayProbes.tagged3 === 1,
  });
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
