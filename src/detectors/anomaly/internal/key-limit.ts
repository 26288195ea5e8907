import type { KeyState } from './key-state.js';

/** Keys looked at per new key before giving up until later (a bounded cost per refused span). */
const SWEEP_STEPS = 256;

/**
 * The `max_keys` policy. While fewer keys exist, every new key is admitted. Once `maxKeys` exist,
 * a new key takes the place of a cold key (not seen in this flush interval nor the last one) that
 * is either junk (fewer than `min_samples` spans: it never had a baseline, like the keys of span
 * names with ids in them) or of a service holding more than its share (`maxKeys` / services)
 * while the new key's service holds less: so one service's junk cannot keep every other service's
 * new keys out, and the keys in use are never evicted. The search is a clock hand over the keys,
 * a bounded number of steps per new key; after a full turn without a victim, new keys are refused
 * at once until the next flush interval.
 */
export class KeyLimit {
  /** Flush intervals since start; a key's `seen` is the interval it was last seen in. */
  epoch = 1;
  private readonly list: KeyState[] = [];
  private readonly index = new Map<KeyState, number>();
  private readonly perService = new Map<string, number>();
  private hand = 0;
  private swept = 0;

  constructor(
    private readonly maxKeys: number,
    private readonly minSamples: number,
  ) {}

  get size(): number {
    return this.list.length;
  }

  get full(): boolean {
    return this.list.length >= this.maxKeys;
  }

  keys(): IterableIterator<KeyState> {
    return this.list.values();
  }

  tick(): void {
    this.epoch++;
    this.swept = 0;
  }

  add(key: KeyState): void {
    this.index.set(key, this.list.length);
    this.list.push(key);
    this.perService.set(key.service, (this.perService.get(key.service) ?? 0) + 1);
  }

  /** Removes `key` (swapping the last key into its place); false when it was not here. */
  remove(key: KeyState): boolean {
    const at = this.index.get(key);
    if (at === undefined) return false;
    const last = this.list.pop()!;
    if (last !== key) {
      this.list[at] = last;
      this.index.set(last, at);
    }
    this.index.delete(key);
    const n = (this.perService.get(key.service) ?? 1) - 1;
    if (n > 0) this.perService.set(key.service, n);
    else this.perService.delete(key.service);
    return true;
  }

  /** A key that may give way to a new key of `service`, or undefined. */
  victim(service: string, newService: boolean): KeyState | undefined {
    const n = this.list.length;
    if (n === 0 || this.swept >= n) return undefined;
    const share = Math.floor(this.maxKeys / (this.perService.size + (newService ? 1 : 0)));
    const underShare = (this.perService.get(service) ?? 0) < share;
    const cold = this.epoch - 1;
    for (let step = 0; step < SWEEP_STEPS && this.swept < n; step++, this.swept++) {
      if (this.hand >= n) this.hand = 0;
      const k = this.list[this.hand++]!;
      if (k.seen >= cold || k.pending.length > 0) continue;
      if (k.count() < this.minSamples || (underShare && this.perService.get(k.service)! > share)) {
        this.swept = 0;
        return k;
      }
    }
    return undefined;
  }
}
