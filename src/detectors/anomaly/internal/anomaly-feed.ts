import { matches, type AnomalyQuery, type AnomalyRecord } from './anomaly-record.js';

export type AnomalyListener = (anomaly: AnomalyRecord) => void;

/**
 * Anomalies between tagging and the next flush: handed to live subscribers (the admin API's
 * server-sent events) at once, and held, bounded, until they are written to the history table.
 * When the bound is reached (the database has been unavailable for a while) the oldest are
 * dropped and counted.
 */
export class AnomalyFeed {
  private pending: AnomalyRecord[] = [];
  private readonly listeners = new Set<AnomalyListener>();
  dropped = 0;

  constructor(private readonly max: number) {}

  publish(records: readonly AnomalyRecord[]): void {
    for (const r of records) {
      if (this.pending.length >= this.max) {
        this.pending.shift();
        this.dropped++;
      }
      this.pending.push(r);
      for (const listener of this.listeners) {
        try {
          listener(r);
        } catch {
          // A subscriber's failure is its own (the SSE stream drops its client).
        }
      }
    }
  }

  subscribe(listener: AnomalyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** What the next flush writes. */
  unflushed(): readonly AnomalyRecord[] {
    return this.pending;
  }

  /** The first `n` records were committed. */
  flushed(n: number): void {
    this.pending.splice(0, n);
  }

  /** Stored history merged with what is not flushed yet, newest first, without duplicates. */
  query(q: AnomalyQuery, stored: readonly AnomalyRecord[]): AnomalyRecord[] {
    const seen = new Set(stored.map((r) => r.id));
    const out = [...stored];
    for (const r of this.pending) if (!seen.has(r.id) && matches(r, q)) out.push(r);
    out.sort((a, b) => b.startMs - a.startMs);
    return out.slice(0, q.limit);
  }
}
