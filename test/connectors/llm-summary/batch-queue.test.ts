import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../../src/connectors/llm-summary/internal/holding/batch-queue.js';
import type { HeldTrace } from '../../../src/connectors/llm-summary/internal/holding/trace-holder.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const trace = (traceId: string, severity: number): HeldTrace => ({
  traceId,
  openedAt: 0,
  deadline: 0,
  spans: [],
  severity,
});

/** A queue whose batches finish only when the test says so. */
function make(size = 10, maxBatch = 3) {
  const clock = new FakeClock();
  const batches: string[][] = [];
  const finish: (() => void)[] = [];
  let dropped = 0;
  const q = new BatchQueue({
    clock,
    size,
    maxBatch,
    timeoutMs: 30_000,
    run: (batch) =>
      new Promise<void>((resolve) => {
        batches.push(batch.map((t) => t.traceId));
        finish.push(resolve);
      }),
    dropped: () => dropped++,
  });
  return { q, clock, batches, finish, dropped: () => dropped };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('batch queue', () => {
  it('sends a batch after the timeout from its first trace, or at once when it is full', async () => {
    const { q, clock, batches, finish } = make();
    q.add(trace('a', 3));
    clock.advance(20_000);
    q.add(trace('b', 3));
    clock.advance(9_999);
    expect(batches).toEqual([]);
    clock.advance(1);
    expect(batches).toEqual([['a', 'b']]);
    finish.shift()!();
    await settle();
    q.add(trace('c', 3));
    q.add(trace('d', 3));
    q.add(trace('e', 3));
    expect(batches).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
  });

  it('runs one batch at a time; what came meanwhile goes next', async () => {
    const { q, batches, finish } = make();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) q.add(trace(id, 3));
    expect(batches).toEqual([['a', 'b', 'c']]);
    finish.shift()!();
    await settle();
    expect(batches).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
    ]);
    finish.shift()!();
    await settle();
    // 'g' alone: not a full batch, it waits for the timeout again.
    expect(batches).toHaveLength(2);
    expect(q.length).toBe(1);
  });

  it('when full, a more severe trace replaces the oldest least severe one; drain runs the rest', async () => {
    const { q, batches, finish, dropped } = make(2, 1);
    q.add(trace('running', 1));
    q.add(trace('a', 4));
    q.add(trace('b', 4));
    q.add(trace('c', 1)); // replaces a
    q.add(trace('d', 4)); // no more severe than b: dropped
    expect(dropped()).toBe(2);
    const drained = q.drain();
    finish.shift()!();
    await settle();
    finish.shift()?.();
    await settle();
    finish.shift()?.();
    await drained;
    expect(batches).toEqual([['running'], ['b'], ['c']]);
  });
});
