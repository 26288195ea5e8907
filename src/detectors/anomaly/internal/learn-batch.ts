import type { ScoredBatch } from './score-batch.js';

export interface LearningRules {
  /** Learn from spans with status ERROR too (off by default: failing fast is not "normal latency"). */
  readonly learnErrors: boolean;
  /** Keep spans severe against their own dow_hour bucket out of the baseline (`ScoredBatch.severe`). */
  readonly excludeSevere: boolean;
  /** Local days outside [firstDay, lastDay] are not learned (older than the window, or in the future). */
  readonly firstDay: number;
  readonly lastDay: number;
}

const STATUS_ERROR = 2;

/**
 * Learns a scored batch once it has been accepted downstream: each span's duration goes into its
 * key's slots and pending daily row, except spans marked in `skip` (seen before: recent-spans.ts).
 * Returns how many spans were learned.
 */
export function learnBatch(scored: ScoredBatch, rules: LearningRules, skip?: Uint8Array): number {
  const { keys, dayHours, buckets, severe } = scored;
  const spans = scored.index.spans;
  let learned = 0;
  for (let i = 0; i < spans.length; i++) {
    const key = keys[i];
    if (key === undefined || skip?.[i] === 1) continue;
    const span = spans[i]!;
    if (!rules.learnErrors && span.statusCode === STATUS_ERROR) continue;
    if (rules.excludeSevere && severe[i] === 1) continue;
    const dayHour = dayHours[i]!;
    const day = Math.floor(dayHour / 24);
    if (day < rules.firstDay || day > rules.lastDay) continue;
    key.learn(dayHour, buckets[i]!, span.durationMs);
    learned++;
  }
  return learned;
}
