import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SummaryStore,
  type StoredSummary,
} from '../../../src/connectors/llm-summary/internal/store/summary-store.js';
import { useTempDirs } from '../../exporters/harness.js';
import { storedSummary } from './stored-summary.js';

const tempDir = useTempDirs('hourglass-summaries-');

function stored(n: number, createdAt: number): StoredSummary {
  const traceId = n.toString(16).padStart(32, '0');
  const id = `${traceId}-00000000000000a${n}`;
  return storedSummary(id, [id, `${traceId}-00000000000000b${n}`], createdAt, {
    prompt: `Latency anomaly ${n}`,
    completion: '  CPU is high.\n',
    summary: 'CPU is high.',
  });
}

describe('summary store', () => {
  it('finds a summary by any anomaly it covers, rates it, exports rated ones, keeps them on retention', () => {
    const file = join(tempDir(), 'sub', 'summaries.db');
    const store = new SummaryStore(file);
    const a = stored(1, 1000);
    const b = stored(2, 2000);
    store.insert([a, b]);
    expect(store.find(a.anomalyIds[1]!)).toEqual(a);
    expect(store.find('nope')).toBeUndefined();
    expect(store.rate('nope', { rating: 1, correction: null }, 5000)).toBeUndefined();
    const rated = store.rate(
      a.anomalyIds[1]!,
      { rating: 1, correction: 'CPU was 0.1%: payments was slow.' },
      5000,
    )!;
    expect(rated).toMatchObject({
      rating: 1,
      correction: 'CPU was 0.1%: payments was slow.',
      ratedAt: 5000,
    });
    store.rate(a.id, { rating: 2, correction: null }, 6000); // the latest rating wins
    expect([...store.rated(undefined)].map((s) => [s.id, s.rating, s.correction])).toEqual([
      [a.id, 2, null],
    ]);
    expect([...store.rated(7000)]).toEqual([]);
    expect(store.deleteUnratedBefore(10_000)).toBe(1); // b: unrated; a is kept
    expect(store.find(b.id)).toBeUndefined();
    expect(store.find(a.id)!.rating).toBe(2);
    store.close();
    // Reopened: what was written is there.
    const again = new SummaryStore(file);
    expect(again.find(a.anomalyIds[0]!)!.prompt).toBe('Latency anomaly 1');
    again.close();
  });
});
