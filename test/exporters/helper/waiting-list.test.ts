import { describe, expect, it } from 'vitest';
import { WaitingList } from '../../../src/exporters/helper/internal/waiting-list.js';
import { forceGc } from '../../../src/pipeline/memory-limiter/memory-limiter.js';

describe('WaitingList', () => {
  it('hands out the oldest entries, merged up to maxBytes, in order', async () => {
    const list = new WaitingList<{ n: number; size: number }>((e) => e.size);
    for (let n = 0; n < 5; n++) list.push({ n, size: 40 });
    expect((await list.take(100))!.map((e) => e.n)).toEqual([0, 1]);
    expect((await list.take(100))!.map((e) => e.n)).toEqual([2, 3]);
    expect((await list.take(10))!.map((e) => e.n)).toEqual([4]); // the oldest goes even if larger
    expect(list.length).toBe(0);
  });

  it('does not keep entries alive once they are taken', async () => {
    const list = new WaitingList<{ bytes: Uint8Array }>((e) => e.bytes.length);
    const refs: Array<WeakRef<Uint8Array>> = [];
    for (let i = 0; i < 8; i++) {
      const bytes = new Uint8Array(1024 * 1024);
      refs.push(new WeakRef(bytes));
      list.push({ bytes });
    }
    // Take half, leaving entries behind them in the list.
    for (let i = 0; i < 4; i++) await list.take(1);
    await new Promise((resolve) => setImmediate(resolve));
    forceGc();
    expect(refs.slice(0, 4).map((r) => r.deref())).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(refs.slice(4).every((r) => r.deref() !== undefined)).toBe(true);
    expect(list.length).toBe(4);
  });
});
