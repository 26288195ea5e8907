import { describe, expect, it } from 'vitest';
import { AnomalyFeed } from '../../../src/detectors/anomaly/internal/anomaly-feed.js';
import type { AnomalyRecord } from '../../../src/detectors/anomaly/internal/anomaly-record.js';

const record = (i: number, severity = 3): AnomalyRecord => ({
  id: `t${i}-s${i}`,
  traceId: `t${i}`,
  spanId: `s${i}`,
  service: i % 2 === 0 ? 'even' : 'odd',
  operation: 'op',
  kind: 2,
  startMs: 1000 + i,
  durationMs: 10,
  severity,
  detector: 'latency',
  reason: 'slow_span',
  operationRatio: Number.NaN,
  score: 9,
  ratio: 3,
  meanMs: 3,
  stddevMs: 1,
  p99Ms: 5,
  samples: 40,
  scope: 'dow_hour',
  window: 'Mon 09:00-10:00 UTC',
  recordedAt: 5000,
  summary: null,
  seq: 0,
});

describe('anomaly feed', () => {
  it('holds at most max records until a flush, dropping (and counting) the oldest', () => {
    const feed = new AnomalyFeed(10, () => 5000);
    feed.publish(Array.from({ length: 25 }, (_, i) => record(i)));
    expect(feed.dropped).toBe(15);
    expect(feed.unflushed().map((r) => r.traceId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `t${i + 15}`),
    );
    feed.flushed(4);
    expect(feed.unflushed().map((r) => r.traceId)).toEqual(
      Array.from({ length: 6 }, (_, i) => `t${i + 19}`),
    );
    // Many more than max: still bounded, still the newest.
    for (let i = 0; i < 1000; i++) feed.publish([record(100 + i)]);
    expect(feed.unflushed()).toHaveLength(10);
    expect(feed.unflushed()[9]!.traceId).toBe('t1099');
  });

  it('hands every record to subscribers at once, and survives a failing one', () => {
    const feed = new AnomalyFeed(10, () => 5000);
    const seen: string[] = [];
    feed.subscribe(() => {
      throw new Error('a broken client');
    });
    const stop = feed.subscribe((r) => seen.push(r.traceId));
    feed.publish([record(1), record(2)]);
    stop();
    feed.publish([record(3)]);
    expect(seen).toEqual(['t1', 't2']);
    expect(feed.subscribers).toBe(1);
  });

  it('merges unflushed records into stored history, newest first, without duplicates', () => {
    const feed = new AnomalyFeed(10, () => 5000);
    feed.publish([record(1), record(4), record(5, 1)]);
    const stored = [record(3), record(1)];
    expect(feed.query({ limit: 10 }, stored).map((r) => r.traceId)).toEqual([
      't5',
      't4',
      't3',
      't1',
    ]);
    expect(feed.query({ limit: 2, service: 'odd' }, []).map((r) => r.traceId)).toEqual([
      't5',
      't1',
    ]);
    expect(feed.query({ limit: 10, minSeverity: 2 }, []).map((r) => r.traceId)).toEqual(['t5']);
  });

  it('numbers records in the order published, increasing though the clock stands or goes back', () => {
    let now = 2_000.4;
    const feed = new AnomalyFeed(10, () => now);
    const seqs: number[] = [];
    feed.subscribe((r) => seqs.push(r.seq));
    feed.publish([record(1), record(2)]);
    now = 1_000; // set back
    feed.publish([record(3)]);
    now = 3_000;
    feed.publish([record(4)]);
    expect(feed.start).toBe(2_000_000);
    expect(seqs).toEqual([2_000_001, 2_000_002, 2_000_003, 3_000_000]);
    expect(feed.lastSeq).toBe(3_000_000);
    // What was published after a place, among the unflushed ones.
    feed.flushed(1);
    expect(feed.holds(2_000_001)).toBe(false);
    expect(feed.holds(2_000_002)).toBe(true);
    expect(feed.after(2_000_002).map((r) => r.traceId)).toEqual(['t3', 't4']);
  });
});
