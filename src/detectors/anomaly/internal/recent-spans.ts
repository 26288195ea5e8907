import { hexAt } from '../../../otlp/trace-index.js';
import type { ScoredBatch } from './score-batch.js';

/**
 * The spans tagged or seen carrying `anomaly.*` attributes lately, by id (`<trace id>-<span id>`
 * in hex), so that such a span coming back (a second hourglass in the path, a replay, a loop
 * through other hops) is not learned twice. Two generations that turn over at every flush: an id
 * is remembered for at least one flush interval after it was last seen. Bounded: each generation holds at most `max`
 * ids; what it cannot hold is counted (`unchecked`), and such a span, if it comes back, is learned
 * again.
 */
export class RecentSpans {
  private current = new Set<string>();
  private previous = new Set<string>();
  /** Ids not remembered because the current generation was full (read by the metrics). */
  unchecked = 0;

  constructor(private readonly max: number) {}

  has(id: string): boolean {
    return this.current.has(id) || this.previous.has(id);
  }

  /** Whether `id` is remembered; if so it is remembered anew (a span that keeps looping stays known). */
  seen(id: string): boolean {
    if (this.current.has(id)) return true;
    if (!this.previous.has(id)) return false;
    this.add(id);
    return true;
  }

  add(id: string): void {
    if (this.current.size >= this.max) {
      this.unchecked++;
      return;
    }
    this.current.add(id);
  }

  /** At a flush: the oldest generation is forgotten. */
  turn(): void {
    this.previous = this.current;
    this.current = new Set();
  }
}

/** Spans of a batch not to learn (seen again within the interval), and their ids. */
export interface Repeats {
  readonly skip: Uint8Array;
  readonly ids: ReadonlySet<string>;
}

/**
 * Checks a scored batch against `recent` before it is learned: a span that arrived carrying
 * `anomaly.*` attributes and was tagged or seen so within the interval is marked not to be learned
 * again; the others such spans, and every span tagged now, are remembered.
 */
export function checkRepeats(scored: ScoredBatch, recent: RecentSpans): Repeats | undefined {
  const { carried, keys } = scored;
  let skip: Uint8Array | undefined;
  let ids: Set<string> | undefined;
  if (carried) {
    const { bytes, spans } = scored.index;
    for (let i = 0; i < spans.length; i++) {
      if (carried[i] !== 1 || keys[i] === undefined) continue;
      const span = spans[i]!;
      const id = `${hexAt(bytes, span.traceIdAt, 16)}-${hexAt(bytes, span.spanIdAt, 8)}`;
      if (recent.seen(id)) {
        (skip ??= new Uint8Array(spans.length))[i] = 1;
        (ids ??= new Set()).add(id);
      } else {
        recent.add(id);
      }
    }
  }
  for (const a of scored.anomalies) if (!recent.has(a.id)) recent.add(a.id);
  return skip && ids ? { skip, ids } : undefined;
}
