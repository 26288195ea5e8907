import { describe, expect, it } from 'vitest';
import { RecencyMap } from '../../../../src/detectors/anomaly/incidents/recency-map.js';
import { Random } from '../../helpers/random.js';

/** What the engine's memories did with a Map: delete and set to make newest, the first key oldest. */
class MapReference<V> {
  readonly map = new Map<string, V>();
  touch(key: string, value: V) {
    this.map.delete(key);
    this.map.set(key, value);
  }
  shift() {
    const first = this.map.keys().next();
    if (!first.done) this.map.delete(first.value);
  }
}

describe('RecencyMap', () => {
  it('keeps its entries in the order a Map with delete-then-set keeps them, through any mix of operations', () => {
    const r = new Random(11);
    const map = new RecencyMap<number>();
    const ref = new MapReference<number>();
    for (let step = 0; step < 20_000; step++) {
      const key = `k${Math.floor(r.next() * 300)}`;
      const op = r.next();
      if (op < 0.5) {
        map.touch(key, step);
        ref.touch(key, step);
      } else if (op < 0.65) {
        expect(map.delete(key)).toBe(ref.map.delete(key));
      } else if (op < 0.8) {
        map.shift();
        ref.shift();
      } else if (op < 0.9) {
        const had = ref.map.has(key);
        expect(map.replace(key, -step)).toBe(had);
        if (had) ref.map.set(key, -step); // a Map's set of a present key keeps its place
      } else {
        expect(map.get(key)).toBe(ref.map.get(key));
      }
      expect(map.size).toBe(ref.map.size);
      expect(map.peekOldest()).toBe(ref.map.values().next().value);
      if (step % 500 === 0) expect([...map]).toEqual([...ref.map]);
    }
    expect([...map]).toEqual([...ref.map]);
  });

  it('is empty after its last entry goes, and takes new ones after', () => {
    const map = new RecencyMap<string>();
    map.touch('a', 'A');
    map.touch('b', 'B');
    map.touch('a', 'A2'); // a is now the newest
    expect([...map]).toEqual([
      ['b', 'B'],
      ['a', 'A2'],
    ]);
    map.shift();
    map.shift();
    map.shift(); // nothing left: no-op
    expect(map.size).toBe(0);
    expect(map.peekOldest()).toBeUndefined();
    expect([...map]).toEqual([]);
    map.touch('c', 'C');
    expect([...map]).toEqual([['c', 'C']]);
  });
});
