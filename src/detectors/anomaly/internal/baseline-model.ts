import { KeyState } from './key-state.js';

/** Span name -> per-kind key states (index: SpanKind 0..5). */
export type Operations = Map<string, (KeyState | undefined)[]>;

/**
 * Every key's hot state, found without building a key string per span: service -> span name ->
 * span kind. At most `maxKeys` keys are tracked (span names with ids in them would otherwise grow
 * it without bound); spans of keys beyond that are forwarded untouched and counted.
 */
export class BaselineModel {
  private readonly services = new Map<string, Operations>();
  private readonly byId = new Map<number, KeyState>();
  private readonly all = new Set<KeyState>();
  /** Spans not scored because their key would exceed `maxKeys` (read by the metrics). */
  refusedKeys = 0;

  constructor(readonly maxKeys: number) {}

  get size(): number {
    return this.all.size;
  }

  keys(): IterableIterator<KeyState> {
    return this.all.values();
  }

  /** A service's keys by operation, to look many spans of one resource up (undefined: none yet). */
  operations(service: string): Operations | undefined {
    return this.services.get(service);
  }

  /**
   * The key's state, created on first sight; undefined when `maxKeys` keys already exist (then
   * nothing is allocated for it). `ops` is `operations(service)` when the caller has it at hand.
   */
  key(
    service: string,
    operation: string,
    kind: number,
    ops: Operations | undefined = this.services.get(service),
  ): KeyState | undefined {
    const found = ops?.get(operation)?.[kind];
    if (found) return found;
    let serviceOps = this.services.get(service);
    const current = serviceOps?.get(operation)?.[kind]; // `ops` may be older than the key
    if (current) return current;
    if (this.all.size >= this.maxKeys) {
      this.refusedKeys++;
      return undefined;
    }
    if (!serviceOps) this.services.set(service, (serviceOps = new Map()));
    let kinds = serviceOps.get(operation);
    if (!kinds) serviceOps.set(operation, (kinds = []));
    const created = new KeyState(service, operation, kind);
    kinds[kind] = created;
    this.all.add(created);
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
    for (const key of this.all) key.id = undefined;
  }

  remove(key: KeyState): void {
    this.all.delete(key);
    if (key.id !== undefined) this.byId.delete(key.id);
    const ops = this.services.get(key.service);
    const kinds = ops?.get(key.operation);
    if (!ops || !kinds) return;
    kinds[key.kind] = undefined;
    if (kinds.every((k) => k === undefined)) ops.delete(key.operation);
    if (ops.size === 0) this.services.delete(key.service);
  }
}
