import { counts, type Counts } from './metrics.js';
import type { ReplayStream } from './inputs.js';
import { NEGATIVE, POSITIVE } from './protocol.js';
import { playOrder } from './reference-scores.js';
import { commonKeys, type SpanTable } from './span-table.js';

/**
 * The figure for extreme spans: a span at least 10x slower than its operation's median at
 * that hour, on a key with at least 200 spans of history, is tagged SEV<=3 unless that key's own
 * history shows such spans at least once in a thousand. "History" is what the processor had seen
 * of the key before the span (the history learned first, then the judged spans before it); the
 * median is that of the key's spans in the span's clock hour (of the judged files, or of the
 * history for history spans).
 */
export const TENFOLD = 10;
export const TENFOLD_MIN_HISTORY = 200;
export const TENFOLD_RARE = 0.001;

export interface TenfoldFigure {
  /** Spans the figure requires to be tagged SEV<=3, by the severity they got. */
  readonly required: Counts;
  /** Of those, how many the per-operation 3-sigma rule flags. */
  readonly sigma3: number;
  /** 10x spans not required: the key had fewer than 200 spans, or shows them often enough. */
  readonly youngKey: number;
  readonly usual: number;
  /** Per operation, the required spans and those not tagged SEV<=3 (most misses first). */
  readonly byKey: { readonly key: string; readonly required: number; readonly missed: number }[];
  /**
   * The protocol's positives and negatives in each of the figure's classes, and how many of them
   * are tagged SEV<=3: where F1 is won and lost (the false alarms the figure requires, and those
   * it does not). Empty without labels.
   */
  readonly classes: Partial<Record<TenfoldClass, ClassVerdicts>>;
}

/** The figure's classes of a span: required, 10x on a young key or where usual, or under 10x. */
export type TenfoldClass = 'required' | 'youngKey' | 'usual' | 'under';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface ClassVerdicts {
  readonly positives: number;
  readonly positivesTagged: number;
  readonly negatives: number;
  readonly negativesTagged: number;
}

export function tenfoldFigure(
  stream: ReplayStream,
  history: SpanTable | undefined,
  severity: Uint8Array,
  sigma: Float64Array,
  label?: Uint8Array,
): TenfoldFigure {
  const t = stream.table;
  const keys = commonKeys(history ? [t, history] : [t]);
  const seen = new Float64Array(keys.size);
  const extreme = new Float64Array(keys.size);
  if (history) {
    const big = tenfoldSpans(history, keys.of[1]!);
    for (const i of playOrder(history)) {
      const k = keys.of[1]![history.key[i]!]!;
      seen[k]!++;
      if (big[i]) extreme[k]!++;
    }
  }
  const big = tenfoldSpans(t, keys.of[0]!);
  const required = counts();
  let sigma3 = 0;
  let youngKey = 0;
  let usual = 0;
  const perKey = new Map<number, { required: number; missed: number }>();
  const classes: Partial<Record<TenfoldClass, Mutable<ClassVerdicts>>> = {};
  const verdict = (c: TenfoldClass, i: number) => {
    const l = label?.[i];
    if (l !== POSITIVE && l !== NEGATIVE) return;
    const v = (classes[c] ??= {
      positives: 0,
      positivesTagged: 0,
      negatives: 0,
      negativesTagged: 0,
    });
    const tagged = severity[i]! >= 1 && severity[i]! <= 3 ? 1 : 0;
    if (l === POSITIVE) {
      v.positives++;
      v.positivesTagged += tagged;
    } else {
      v.negatives++;
      v.negativesTagged += tagged;
    }
  };
  for (const r of stream.requests) {
    for (let i = r.first; i < r.first + r.count; i++) {
      const k = keys.of[0]![t.key[i]!]!;
      if (!big[i]) verdict('under', i);
      else if (seen[k]! < TENFOLD_MIN_HISTORY) {
        youngKey++;
        verdict('youngKey', i);
      } else if (extreme[k]! / seen[k]! >= TENFOLD_RARE) {
        usual++;
        verdict('usual', i);
      } else {
        verdict('required', i);
        required[severity[i]!]!++;
        if (sigma[i]! >= 3) sigma3++;
        const e = perKey.get(t.key[i]!) ?? { required: 0, missed: 0 };
        e.required++;
        if (!(severity[i]! >= 1 && severity[i]! <= 3)) e.missed++;
        perKey.set(t.key[i]!, e);
      }
      seen[k]!++;
      if (big[i]) extreme[k]!++;
    }
  }
  const byKey = [...perKey]
    .map(([key, e]) => {
      const k = t.keys[key]!;
      return { key: `${k.service} ${k.name}`, ...e };
    })
    .sort((a, b) => b.missed - a.missed || b.required - a.required);
  return { required, sigma3, youngKey, usual, byKey, classes };
}

/** Per span of `t`: 1 when it is at least 10x its key's median in its clock hour. */
function tenfoldSpans(t: SpanTable, cell: Int32Array): Uint8Array {
  const groups = new Map<string, number[]>();
  const groupOf = (i: number) => `${cell[t.key[i]!]!}/${Math.floor(t.startMs(i) / 3_600_000)}`;
  for (let i = 0; i < t.count; i++) {
    const g = groupOf(i);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(t.durationMs(i));
  }
  const median = new Map<string, number>();
  for (const [g, list] of groups) {
    list.sort((a, b) => a - b);
    median.set(g, list[Math.floor((list.length - 1) / 2)]!);
  }
  return Uint8Array.from({ length: t.count }, (_, i) => {
    const m = median.get(groupOf(i))!;
    return m > 0 && t.durationMs(i) >= TENFOLD * m ? 1 : 0;
  });
}
