import type { AnomalyRecord } from './anomaly-record.js';

/** Flushes an unmatched summary waits for its anomaly to be recorded before it is dropped. */
const MAX_TRIES = 3;

/**
 * Summaries a summarizer (the `llm_summary` exporter) attached to anomalies, held until a flush
 * writes them onto the history rows; shown on the history meanwhile. Bounded: the oldest go first.
 * One whose anomaly is never recorded (its batch was refused downstream) is dropped after a few
 * flushes.
 */
export class PendingSummaries {
  private readonly byId = new Map<string, { summary: string; tries: number }>();

  constructor(private readonly max: number) {}

  add(anomalyIds: readonly string[], summary: string): void {
    for (const id of anomalyIds) {
      this.byId.delete(id);
      this.byId.set(id, { summary, tries: 0 });
    }
    while (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
  }

  /** The records with their pending summaries filled in. */
  apply(records: AnomalyRecord[]): AnomalyRecord[] {
    if (this.byId.size === 0) return records;
    return records.map((r) => {
      const p = this.byId.get(r.id);
      return p ? { ...r, summary: p.summary } : r;
    });
  }

  /** What the next flush writes. */
  entries(): [string, string][] {
    return [...this.byId].map(([id, p]) => [id, p.summary]);
  }

  /** After a committed flush: `written` ids are done; the others wait a few more flushes. */
  flushed(written: ReadonlySet<string>, attempted: readonly [string, string][]): void {
    for (const [id, summary] of attempted) {
      const p = this.byId.get(id);
      if (!p || p.summary !== summary) continue; // replaced since: the new one is written next
      if (written.has(id) || ++p.tries >= MAX_TRIES) this.byId.delete(id);
    }
  }
}
