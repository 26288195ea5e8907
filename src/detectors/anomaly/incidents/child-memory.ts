import { RecencyMap } from './recency-map.js';

/** What a parent span learns of its tagged children that came before it. */
export interface RememberedChildren {
  /** Their slowdowns (ms beyond their baseline means), summed. */
  excessMs: number;
  /** The service of the first of them. */
  readonly service: string;
  /** Clock time they were remembered (the last of them). */
  at: number;
}

/**
 * The tagged spans whose parent had not reached the sidecar yet, by `trace id / parent span id`,
 * so that the parent, in a later request, counts their slowdown as its children's and not as its
 * own, and knows which service it called (trace-groups.ts). Bounded: at most `max` parents,
 * each for `ttlMs` (the oldest go first).
 */
export class ChildMemory {
  private readonly parents = new RecencyMap<RememberedChildren>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.parents.size;
  }

  remember(traceId: string, parentSpanId: string, excessMs: number, service: string, now: number) {
    const key = `${traceId}/${parentSpanId}`;
    const had = this.parents.get(key);
    if (had && now - had.at <= this.ttlMs) {
      had.excessMs += excessMs;
      had.at = now;
      this.parents.touch(key, had);
      return;
    }
    this.parents.touch(key, { excessMs, service, at: now });
    if (this.parents.size > this.max) this.parents.shift();
  }

  /** The children remembered for this span (then forgotten), unless they are too old. */
  take(traceId: string, spanId: string, now: number): RememberedChildren | undefined {
    if (this.parents.size === 0) return undefined;
    const key = `${traceId}/${spanId}`;
    const r = this.parents.get(key);
    if (!r) return undefined;
    this.parents.delete(key);
    return now - r.at <= this.ttlMs ? r : undefined;
  }

  /** Forgets what is older than `ttlMs` (oldest first, so it stops at the first young one). */
  expire(now: number): void {
    for (let r = this.parents.peekOldest(); r && now - r.at > this.ttlMs;) {
      this.parents.shift();
      r = this.parents.peekOldest();
    }
  }
}
