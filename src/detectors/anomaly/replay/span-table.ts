/**
 * What replay keeps about every span it plays, in columns (a day of a busy system is millions of
 * spans): times in ns, ids, and interned name, resource and key. The processor sees the spans as
 * OTLP requests; this table is what the report and the scoring read, in the order played.
 */
export interface ResourceInfo {
  /** `service.name`. */
  readonly service: string;
  /** `k8s.pod.name` where known (the Nezha CSV's PodName), else the service. */
  readonly pod: string;
}

/** Bytes of ids per span: trace id (16), span id (8), parent span id (8; zeros for a root). */
export const ID_BYTES = 32;

const LATEST_NS = 2n ** 63n - 1n; // 2262-04-11: the table's signed 64-bit columns

/**
 * A span's time `ns` moved by `shiftNs` (--shift): an error naming `where` when it falls before
 * 1970 or after 2262, which the table and OTLP's unsigned nanoseconds would wrap without a word
 * (--shift 9999999h replayed 2026's spans in 1998).
 */
export function shiftedNs(ns: bigint, shiftNs: bigint, where: string): bigint {
  const t = ns + shiftNs;
  if (t >= 0n && t <= LATEST_NS) return t;
  const when = t < 0n ? 'before 1970' : 'after 2262';
  const moved = shiftNs === 0n ? '' : ', moved by the shift,';
  throw new Error(`${where}: a span's time${moved} falls ${when}`);
}

export class SpanTable {
  count = 0;
  startNs = new BigInt64Array(1024);
  endNs = new BigInt64Array(1024);
  ids = new Uint8Array(1024 * ID_BYTES);
  name = new Int32Array(1024);
  kind = new Uint8Array(1024);
  resource = new Int32Array(1024);
  /** The key (service, name, kind) of each span: index into `keys`. */
  key = new Int32Array(1024);
  readonly names: string[] = [];
  readonly resources: ResourceInfo[] = [];
  readonly keys: { service: string; name: string; kind: number }[] = [];
  private readonly nameIds = new Map<string, number>();
  private readonly resourceIds = new Map<string, number>();
  private readonly keyIds = new Map<string, number>();

  /** Appends a span; `ids` holds its trace, span and parent ids (ID_BYTES, at `idsAt`). */
  push(
    startNs: bigint,
    endNs: bigint,
    ids: Uint8Array,
    idsAt: number,
    name: string,
    kind: number,
    resource: ResourceInfo,
  ): number {
    if (this.count === this.startNs.length) this.grow();
    const i = this.count++;
    this.startNs[i] = startNs;
    this.endNs[i] = endNs;
    this.ids.set(ids.subarray(idsAt, idsAt + ID_BYTES), i * ID_BYTES);
    this.name[i] = intern(this.nameIds, this.names, name, name);
    this.kind[i] = kind;
    const r = intern(this.resourceIds, this.resources, `${resource.service}\n${resource.pod}`, {
      service: resource.service,
      pod: resource.pod,
    });
    this.resource[i] = r;
    const service = this.resources[r]!.service;
    this.key[i] = intern(this.keyIds, this.keys, `${service}\n${name}\n${kind}`, {
      service,
      name,
      kind,
    });
    return i;
  }

  startMs(i: number): number {
    return Number(this.startNs[i]!) / 1e6;
  }

  endMs(i: number): number {
    return Number(this.endNs[i]!) / 1e6;
  }

  durationMs(i: number): number {
    return Number(this.endNs[i]! - this.startNs[i]!) / 1e6;
  }

  service(i: number): string {
    return this.resources[this.resource[i]!]!.service;
  }

  pod(i: number): string {
    return this.resources[this.resource[i]!]!.pod;
  }

  /** A 52-bit number for the span's (trace id, span id), for parent lookups; 0 for none. */
  spanKey(i: number): number {
    return idKey(this.ids, i * ID_BYTES, i * ID_BYTES + 16);
  }

  /** The same number for the span's parent; 0 for a root span. */
  parentKey(i: number): number {
    return idKey(this.ids, i * ID_BYTES, i * ID_BYTES + 24);
  }

  /** Appends span `from` to `into` (a reordered or filtered table), times moved by `shiftNs`. */
  copyTo(into: SpanTable, from: number, shiftNs = 0n): void {
    into.push(
      this.startNs[from]! + shiftNs,
      this.endNs[from]! + shiftNs,
      this.ids,
      from * ID_BYTES,
      this.names[this.name[from]!]!,
      this.kind[from]!,
      this.resources[this.resource[from]!]!,
    );
  }

  private grow(): void {
    const capacity = this.startNs.length;
    const more = <T extends { length: number; set(a: T): void }>(a: T, make: (n: number) => T) => {
      const next = make((a.length / capacity) * capacity * 2);
      next.set(a);
      return next;
    };
    this.ids = more(this.ids, (n) => new Uint8Array(n));
    this.startNs = more(this.startNs, (n) => new BigInt64Array(n));
    this.endNs = more(this.endNs, (n) => new BigInt64Array(n));
    this.name = more(this.name, (n) => new Int32Array(n));
    this.kind = more(this.kind, (n) => new Uint8Array(n));
    this.resource = more(this.resource, (n) => new Int32Array(n));
    this.key = more(this.key, (n) => new Int32Array(n));
  }
}

function intern<T>(ids: Map<string, number>, list: T[], id: string, value: T): number {
  let k = ids.get(id);
  if (k === undefined) {
    k = list.length;
    list.push(value);
    ids.set(id, k);
  }
  return k;
}

/**
 * The trace id and the 8-byte id at `at` hashed into 52 bits (ids are random: collisions are
 * negligible among the spans of a replay); 0 when the 8 bytes are all zero (no parent).
 */
function idKey(b: Uint8Array, traceAt: number, at: number): number {
  let zero = true;
  for (let k = 0; k < 8; k++) if (b[at + k] !== 0) zero = false;
  if (zero) return 0;
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  const mix = (x: number) => {
    h1 = Math.imul(h1 ^ x, 16777619);
    h2 = Math.imul(h2 ^ x, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  };
  for (let k = 0; k < 16; k++) mix(b[traceAt + k]!);
  for (let k = 0; k < 8; k++) mix(b[at + k]!);
  return ((h1 >>> 0) % 1048576) * 4294967296 + (h2 >>> 0) + 1;
}

/** One numbering of the keys of several tables: `of[k][key]` is table k's key in it. */
export function commonKeys(tables: readonly SpanTable[]): { size: number; of: Int32Array[] } {
  const ids = new Map<string, number>();
  const of = tables.map((t) =>
    Int32Array.from(t.keys, (k) => {
      const id = `${k.service}\n${k.name}\n${k.kind}`;
      let c = ids.get(id);
      if (c === undefined) ids.set(id, (c = ids.size));
      return c;
    }),
  );
  return { size: ids.size, of };
}
