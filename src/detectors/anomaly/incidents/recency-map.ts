interface Entry<V> {
  readonly key: string;
  value: V;
  older: Entry<V> | undefined;
  newer: Entry<V> | undefined;
}

/**
 * A map kept oldest first, where `touch` makes an entry the newest, and whose oldest entry goes in
 * constant time (`shift`): the bounded memories of the incident engine (recent traces, children
 * waiting for their parent). A Map does the same with `delete` and `set` and drops its oldest
 * with `keys().next()`, but V8 leaves a deleted entry's slot in place until the table is rebuilt,
 * and `keys().next()` steps over every such slot before the first live one: dropping the oldest of
 * 10,000 entries that way took 11 us, of 50,000 (`max_traces`' default) 45 us, on each tagged span
 * once the memory is full.
 */
export class RecencyMap<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private oldest: Entry<V> | undefined;
  private newest: Entry<V> | undefined;

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Sets `key` to `value` and makes it the newest entry. */
  touch(key: string, value: V): void {
    let e = this.entries.get(key);
    if (e !== undefined) {
      e.value = value;
      if (e === this.newest) return;
      this.unlink(e);
    } else {
      e = { key, value, older: undefined, newer: undefined };
      this.entries.set(key, e);
    }
    e.older = this.newest;
    if (this.newest !== undefined) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  /** Sets the value of an entry where it is (false when there is none of `key`). */
  replace(key: string, value: V): boolean {
    const e = this.entries.get(key);
    if (e !== undefined) e.value = value;
    return e !== undefined;
  }

  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.unlink(e);
    return true;
  }

  /** The oldest entry's value (undefined when empty). */
  peekOldest(): V | undefined {
    return this.oldest?.value;
  }

  /** Removes the oldest entry. */
  shift(): void {
    if (this.oldest !== undefined) this.delete(this.oldest.key);
  }

  /** Entries, oldest first. */
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (let e = this.oldest; e !== undefined; e = e.newer) yield [e.key, e.value];
  }

  private unlink(e: Entry<V>): void {
    if (e.older !== undefined) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer !== undefined) e.newer.older = e.older;
    else this.newest = e.older;
    e.older = undefined;
    e.newer = undefined;
  }
}
