import { serviceOfPod } from '../../src/detectors/anomaly/replay/csv-spans.js';
import { pct } from '../../src/detectors/anomaly/replay/format.js';
import { faultsTaggedWithin, type Scoring } from '../../src/detectors/anomaly/replay/score.js';

/** The figures issue 11 asks for on real traffic, checked on one day's scoring. */
export interface RealFigure {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  readonly pass: boolean | null;
}

export const WITHIN_S = 30;

export function realFigures(s: Scoring): RealFigure[] {
  const { covered, onTime } = faultsTaggedWithin(s, WITHIN_S);
  const sev2 = (f: Scoring['faults'][number]) => f.firstTagS[1] ?? null;
  const late = covered
    .filter((f) => !onTime.includes(f))
    .map((f) => {
      const t = sev2(f);
      return `${serviceOfPod(f.pod)} ${f.type} ${t === null ? 'never' : `${t.toFixed(0)} s`}`;
    });
  const t = s.tenfold;
  const required = t.required.reduce((a, b) => a + b, 0);
  const tagged = t.required[1]! + t.required[2]! + t.required[3]!;
  const neg = s.hourglass.negativeShares;
  const f1 = s.hourglass.cuts[2]!.f1;
  const best = s.sigma.reduce((b, r) => (r.f1 > b.f1 ? r : b), s.sigma[0]!);
  const a = s.atHourglassRate;
  return [
    {
      name: 'latency faults with a SEV<=2 tag within 30 s (of those whose first 30 s the files hold)',
      target: 'all',
      value: `${onTime.length} of ${covered.length}${late.length > 0 ? ` (missed: ${late.join('; ')})` : ''}; ${s.faults.length - covered.length} not coverable`,
      pass: onTime.length === covered.length,
    },
    {
      name: '10x spans on keys with 200 spans of history (rare there) tagged SEV<=3',
      target: 'all',
      value: `${tagged} of ${required} (${pct(tagged / Math.max(1, required), 1)}); 3-sigma flags ${t.sigma3}`,
      pass: tagged === required,
    },
    {
      name: 'negatives tagged SEV<=3',
      target: '<= 0.25%',
      value: pct(neg[2]!, 3),
      pass: neg[2]! <= 0.0025,
    },
    {
      name: 'negatives tagged SEV1',
      target: '<= 0.05%',
      value: pct(neg[0]!, 3),
      pass: neg[0]! <= 0.0005,
    },
    {
      name: 'F1 at SEV<=3 against the best mean + k sigma (k = 3,4,5,6,8)',
      target: `>= ${(best.f1 + 0.15).toFixed(3)} (${best.name} ${best.f1.toFixed(3)} + 0.15)`,
      value: f1.toFixed(3),
      pass: f1 >= best.f1 + 0.15,
    },
    {
      name: "recall at hourglass's SEV<=3 false-alarm rate, against mean + k sigma there",
      target: `>= ${(a.ruleRecall + 0.2).toFixed(3)} (k = ${a.k.toFixed(1)}: ${a.ruleRecall.toFixed(3)} + 0.2)`,
      value: `${a.hourglassRecall.toFixed(3)} at ${pct(a.negativeRate, 3)} of negatives`,
      pass: a.hourglassRecall >= a.ruleRecall + 0.2,
    },
  ];
}
