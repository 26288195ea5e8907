import { KeyState } from './key-state.js';
import { KeyLimit } from './key-limit.js';
import { LevelPool } from './level.js';

const MAX_EVICTED_IDS = 100_000;

/** Span name -> per-kind key states (index: SpanKind 0..5). */
export type Operations = Map<string, (KeyState | undefined)[]>;

/**
 * Every key's hot state, found without building a key string per span: service -> span name ->
 * span kind. At most `maxKeys` keys are tracked (span names with ids in them would otherwise grow
 * it without bound). Once that many exist, a new key takes the place of a cold one when the policy
 * of key-limit.ts allows (a key with too few spans to have a baseline, or one of a service holding
 * more than its share), else its spans are forwarded untouched and counted.
 */
export class BaselineModel {
  private readonly services = new Map<string, Operations>();
  private readonly byId = new Map<number, KeyState>();
  private readonly limit: KeyLimit;
  /** Spans not scored because their key would exceed `maxKeys` (read by the metrics). */
  refusedKeys = 0;
  /** Keys evicted to make room for new ones (read by the metrics). */
  evictedKeys = 0;
  /** Database ids of evicted keys, to delete at the next flush (their rows would reload). */
  evictedIds: number[] = [];
  private readonly levelPool = new LevelPool();

  /** `minSamples`: a key with fewer spans than this has no baseline yet (it may be evicted). */
  constructor(
    readonly maxKeys: number,
    minSamples = 0,
  ) {
    this.limit = new KeyLimit(maxKeys, minSamples);
  }

  get size(): number {
    return this.limit.size;
  }

  keys(): IterableIterator<KeyState> {
    return this.limit.keys();
  }

  /** A service's keys by operation, to look many spans of one resource up (undefined: none yet). */
  operations(service: string): Operations | undefined {
    return this.services.get(service);
  }

  /**
   * After a flush: a key's first level thresholds as soon as it has counted enough spans (a new
   * key, or any key after a restart: the level's histogram lives in memory), and, until then, the
   * ones it borrows from its service's or the processor's (`LevelPool`). `percentiles`: the
   * level's share of the severity percentiles.
   */
  firstLevels(percentiles: readonly number[]): void {
    this.levelPool.update(() => this.keys(), percentiles);
  }

  /** A new flush interval begins: keys not seen in this one nor the last one are cold. */
  tick(): void {
    this.limit.tick();
  }

  /**
   * The key's state, created on first sight; undefined when `maxKeys` keys exist and none may give
   * way (then nothing is allocated for it). `ops` is `operations(service)` when the caller has it.
   */
  key(
    service: string,
    operation: string,
    kind: number,
    ops: Operations | undefined = this.services.get(service),
  ): KeyState | undefined {
    const found = ops?.get(operation)?.[kind];
    if (found) {
      found.seen = this.limit.epoch;
      return found;
    }
    let serviceOps = this.services.get(service);
    const current = serviceOps?.get(operation)?.[kind]; // `ops` may be older than the key
    if (current) return current;
    if (this.limit.full) {
      const victim = this.limit.victim(service, serviceOps === undefined);
      if (!victim) {
        this.refusedKeys++;
        return undefined;
      }
      this.evict(victim);
      serviceOps = this.services.get(service);
    }
    if (!serviceOps) this.services.set(service, (serviceOps = new Map()));
    let kinds = serviceOps.get(operation);
    if (!kinds) serviceOps.set(operation, (kinds = []));
    const created = new KeyState(service, operation, kind);
    created.seen = this.limit.epoch;
    kinds[kind] = created;
    this.limit.add(created);
    return created;
  }

  get(service: string, operation: string, kind: number): KeyState | undefined {
    return this.services.get(service)?.get(operation)?.[kind];
  }

  withId(id: number): KeyState | undefined {
    return this.byId.get(id);
  }

  setId(key: KeyState, id: number): void {
    if (key.id !== undefined) this.byId.delete(key.id);
    key.id = id;
    this.byId.set(id, key);
  }

  /** Forgets every database id (the database was opened anew: ids are looked up again). */
  clearIds(): void {
    this.byId.clear();
    this.evictedIds = [];
    for (const key of this.keys()) key.id = undefined;
  }

  remove(key: KeyState): void {
    if (!this.limit.remove(key)) return;
    if (key.id !== undefined) this.byId.delete(key.id);
    const ops = this.services.get(key.service);
    const kinds = ops?.get(key.operation);
    if (!ops || !kinds) return;
    kinds[key.kind] = undefined;
    if (kinds.every((k) => k === undefined)) ops.delete(key.operation);
    if (ops.size === 0) this.services.delete(key.service);
  }

  /** Removes a key to make room; its stored rows are deleted at the next flush. */
  private evict(key: KeyState): void {
    this.evictedKeys++;
    // Bounded while the database fails: ids beyond it keep their rows until trimmed at a start.
    if (key.id !== undefined && this.evictedIds.length < MAX_EVICTED_IDS) {
      this.evictedIds.push(key.id);
    }
    this.remove(key);
  }
}
