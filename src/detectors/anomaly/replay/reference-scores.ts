import type { ReplayStream } from './inputs.js';
import { EwmaCells, WelfordCells } from './references.js';
import { commonKeys, type SpanTable } from './span-table.js';

/** The references' scores of every judged span (NaN while its operation warms up). */
export interface ReferenceScores {
  /** Per-operation mean and standard deviation over all history (mean + k sigma). */
  readonly sigma: Float64Array;
  /** The `rollingspanlatency` EWMA (2 h half-life). */
  readonly ewma: Float64Array;
}

/**
 * Runs the reference detectors over the same stream as the processor: the history learned first
 * (as hourglass learned it), then the judged spans in the order they were played, each scored
 * before it is learned. Operations are keyed as the processor keys them (service, name, kind).
 */
export function referenceScores(
  stream: ReplayStream,
  history: SpanTable | undefined,
): ReferenceScores {
  const keys = commonKeys(history ? [stream.table, history] : [stream.table]);
  const judgedCells = keys.of[0]!;
  const historyCells = keys.of[1] ?? new Int32Array(0);
  const sigma = new WelfordCells(keys.size);
  const ewma = new EwmaCells(keys.size);
  if (history) {
    for (const i of playOrder(history)) {
      const cell = historyCells[history.key[i]!]!;
      const d = history.durationMs(i);
      sigma.scoreAndLearn(cell, d);
      ewma.scoreAndLearn(cell, d, history.endMs(i));
    }
  }
  const t = stream.table;
  const out = { sigma: new Float64Array(t.count), ewma: new Float64Array(t.count) };
  for (const r of stream.requests) {
    for (let i = r.first; i < r.first + r.count; i++) {
      const cell = judgedCells[t.key[i]!]!;
      const d = t.durationMs(i);
      out.sigma[i] = sigma.scoreAndLearn(cell, d);
      out.ewma[i] = ewma.scoreAndLearn(cell, d, t.endMs(i));
    }
  }
  return out;
}

/** A history table's spans by end time (the order a backfill's source would list them in). */
export function playOrder(t: SpanTable): Int32Array {
  const end = Float64Array.from({ length: t.count }, (_, i) => t.endMs(i));
  return Int32Array.from({ length: t.count }, (_, i) => i).sort(
    (a, b) => end[a]! - end[b]! || a - b,
  );
}
