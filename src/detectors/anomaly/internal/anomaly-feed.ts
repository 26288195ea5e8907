import { Sequence } from '../../../component/sequence.js';
import { matches, type AnomalyQuery, type AnomalyRecord } from './anomaly-record.js';

export type AnomalyListener = (anomaly: AnomalyRecord) => void;

/**
 * Anomalies between tagging and the next flush: handed to live subscribers (the admin API's
 * server-sent events) at once, and held, bounded, until they are written to the history table.
 * When the bound is reached (the database has been unavailable for a while) the oldest are
 * dropped and counted.
 *
 * Each record published gets its `seq`, its place in the order published (component/sequence.ts):
 * it increases across restarts too while the clock does, so an event stream's client resumes after
 * the last one it read from the history (admin API, `Last-Event-ID`).
 */
export class AnomalyFeed {
  /** Unflushed records are `pending[head..]`; dropping the oldest moves `head` (no O(n) shift). */
  private pending: AnomalyRecord[] = [];
  private head = 0;
  private readonly listeners = new Set<AnomalyListener>();
  dropped = 0;
  private readonly seq: Sequence;

  constructor(
    private readonly max: number,
    now: () => number,
  ) {
    this.seq = new Sequence(now);
  }

  /** Where this feed's numbering starts: before its first record (none has this `seq`). */
  get start(): number {
    return this.seq.start;
  }

  /** The `seq` of the last record published (`start` while none is). */
  get lastSeq(): number {
    return this.seq.last;
  }

  publish(records: readonly AnomalyRecord[]): void {
    for (const r of records) {
      r.seq = this.seq.next();
      if (this.pending.length - this.head >= this.max) {
        this.head++;
        this.dropped++;
        this.compact();
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
    this.compact(true);
    return this.pending;
  }

  /** The first `n` records were committed. */
  flushed(n: number): void {
    this.head += n;
    this.compact(true);
  }

  /**
   * These records were committed (a write that ran while more were published, and the oldest
   * perhaps dropped): they are still the first unflushed ones, those not dropped since.
   */
  flushedRecords(written: ReadonlySet<AnomalyRecord>): void {
    while (this.head < this.pending.length && written.has(this.pending[this.head]!)) this.head++;
    this.compact(true);
  }

  private compact(always = false): void {
    if (this.head === 0 || (!always && this.head < this.max)) return;
    this.pending = this.pending.slice(this.head);
    this.head = 0;
  }

  /** The unflushed records published after `seq`, in the order published. */
  after(seq: number): AnomalyRecord[] {
    const out: AnomalyRecord[] = [];
    for (let i = this.head; i < this.pending.length; i++) {
      if (this.pending[i]!.seq > seq) out.push(this.pending[i]!);
    }
    return out;
  }

  /** Whether the record published as `seq` is still unflushed. */
  holds(seq: number): boolean {
    for (let i = this.head; i < this.pending.length; i++) {
      if (this.pending[i]!.seq === seq) return true;
    }
    return false;
  }

  /** Stored history merged with what is not flushed yet, newest first, without duplicates. */
  query(q: AnomalyQuery, stored: readonly AnomalyRecord[]): AnomalyRecord[] {
    const seen = new Set(stored.map((r) => r.id));
    const out = [...stored];
    for (let i = this.head; i < this.pending.length; i++) {
      const r = this.pending[i]!;
      if (!seen.has(r.id) && matches(r, q)) out.push(r);
    }
    out.sort((a, b) => b.startMs - a.startMs);
    return out.slice(0, q.limit);
  }
}
