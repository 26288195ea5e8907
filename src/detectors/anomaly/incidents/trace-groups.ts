import { hexAt } from '../../../otlp/hex.js';
import type { TraceIndex } from '../../../otlp/trace-index.js';
import type { AnomalyRecord } from '../internal/anomaly-record.js';
import type { ChildMemory } from './child-memory.js';

/** A span the processor tagged in this request: its place in the index and its record. */
export interface TaggedSpan {
  readonly span: number;
  readonly record: AnomalyRecord;
}

/** The tagged spans of one trace in a request, and where that trace's time was lost. */
export interface TraceGroup {
  readonly traceId: string;
  readonly members: readonly TaggedSpan[];
  /** The member whose own (exclusive) time grew most. */
  readonly origin: TaggedSpan;
  /** Its own excess, ms (its slowdown minus the slowdown of its tagged children). */
  readonly excessMs: number;
  /**
   * The service its child spans run in, when the origin is a client span (or of unknown kind)
   * with children in another service: its own time grew beyond theirs, so the time was lost on
   * the call edge (on the network, or in the callee's pod before its span started).
   */
  readonly peerService: string | null;
}

const KIND_UNSPECIFIED = 0;
const KIND_CLIENT = 3;

/**
 * Groups a request's tagged spans by trace and finds each trace's origin, as `llm_summary`'s
 * trace analysis does (origin.ts), but online: from what this request holds, in one pass over its
 * spans' parent ids. A tagged span's own excess is its slowdown (duration minus baseline mean)
 * minus the slowdowns of its tagged children: a caller slow because its callee is slow has none
 * of its own. Spans not tagged count as normal.
 *
 * Children end before their parents, so a child often reaches the sidecar in an earlier request
 * than its parent. `memory` (the engine's, bounded) keeps the slowdown and service of each tagged
 * span whose parent was not in its request, under that parent's id; when the parent comes, they
 * count as its children. Costs two Map lookups per span of a request that has tagged spans;
 * nothing for the others.
 */
export function groupByTrace(
  index: TraceIndex,
  tagged: readonly TaggedSpan[],
  memory?: ChildMemory,
  now = 0,
): TraceGroup[] {
  const { bytes, spans, resources } = index;
  const m = tagged.length;
  // Tagged spans by their index in the request (an array of the request's length, allocated
  // outside V8's heap, cost more than the rest of this function).
  const taggedAt = new IdHeads(m);
  const bySpanId = new IdHeads(m);
  const next = new Int32Array(m).fill(-1);
  const excess = new Float64Array(m);
  const childExcess = new Float64Array(m);
  const peer: (string | undefined)[] = new Array<string | undefined>(m);
  /** Tagged spans by the first 32 bits of their parent's id, to see whether it is here. */
  const byParentId = new IdHeads(m);
  const nextByParent = new Int32Array(m).fill(-1);
  const parentHere = new Uint8Array(m);
  for (let k = 0; k < m; k++) {
    const t = tagged[k]!;
    taggedAt.set(t.span, k);
    // Only latency tags carry a baseline mean; an error or traffic tag says nothing of time.
    excess[k] = t.record.meanMs > 0 ? Math.max(0, t.record.durationMs - t.record.meanMs) : 0;
    const key = u32(bytes, spans[t.span]!.spanIdAt);
    next[k] = bySpanId.get(key);
    bySpanId.set(key, k);
    const p = spans[t.span]!.parentSpanIdAt;
    if (p >= 0 && memory) {
      const pk = u32(bytes, p);
      nextByParent[k] = byParentId.get(pk);
      byParentId.set(pk, k);
    }
  }
  for (let j = 0; j < spans.length; j++) {
    const child = spans[j]!;
    if (memory && byParentId.size > 0) {
      for (let k = byParentId.get(u32(bytes, child.spanIdAt)); k >= 0;) {
        const c = spans[tagged[k]!.span]!;
        if (
          equal(bytes, c.parentSpanIdAt, child.spanIdAt, 8) &&
          equal(bytes, c.traceIdAt, child.traceIdAt, 16)
        ) {
          parentHere[k] = 1;
        }
        k = nextByParent[k]!;
      }
    }
    const p = child.parentSpanIdAt;
    if (p < 0) continue;
    for (let k = bySpanId.get(u32(bytes, p)); k >= 0; k = next[k]!) {
      const parent = spans[tagged[k]!.span]!;
      if (
        !equal(bytes, p, parent.spanIdAt, 8) ||
        !equal(bytes, child.traceIdAt, parent.traceIdAt, 16)
      ) {
        continue;
      }
      const c = taggedAt.get(j);
      if (c >= 0) childExcess[k] = childExcess[k]! + excess[c]!;
      if (peer[k] === undefined && child.resource !== parent.resource) {
        const service = resources[child.resource]!.serviceName;
        if (service !== resources[parent.resource]!.serviceName) peer[k] = service;
      }
    }
  }
  if (memory) {
    // Children that came in earlier requests; then this request's children whose parent is not
    // here, for their parent to find (after: a parent here has counted them already).
    for (let k = 0; k < m; k++) {
      const r = tagged[k]!.record;
      const seen = memory.take(r.traceId, r.spanId, now);
      if (!seen) continue;
      childExcess[k] = childExcess[k]! + seen.excessMs;
      if (peer[k] === undefined && seen.service !== r.service) peer[k] = seen.service;
    }
    for (let k = 0; k < m; k++) {
      const t = tagged[k]!;
      const p = spans[t.span]!.parentSpanIdAt;
      if (p < 0 || parentHere[k] === 1) continue;
      memory.remember(t.record.traceId, hexAt(bytes, p, 8), excess[k]!, t.record.service, now);
    }
  }
  const groups = new Map<string, { members: TaggedSpan[]; best: number; own: number }>();
  for (let k = 0; k < m; k++) {
    const t = tagged[k]!;
    const own = Math.max(0, excess[k]! - childExcess[k]!);
    const g = groups.get(t.record.traceId);
    if (!g) {
      groups.set(t.record.traceId, { members: [t], best: k, own });
      continue;
    }
    g.members.push(t);
    const b = tagged[g.best]!.record;
    if (own > g.own || (own === g.own && t.record.severity < b.severity)) {
      g.best = k;
      g.own = own;
    }
  }
  const out: TraceGroup[] = [];
  for (const [traceId, g] of groups) {
    const origin = tagged[g.best]!;
    const kind = origin.record.kind;
    const edge = kind === KIND_CLIENT || kind === KIND_UNSPECIFIED;
    out.push({
      traceId,
      members: g.members,
      origin,
      excessMs: g.own,
      peerService: edge ? (peer[g.best] ?? null) : null,
    });
  }
  return out;
}

/**
 * Tagged spans by the first 32 bits of an id (their own or their parent's), or by their index in
 * the request: the last one added with that key (-1: none), the others chained by the caller. An
 * open-addressing table in typed arrays, sized for the request's tagged spans: the walk over every
 * span of the request looks up two ids each, and a Map of such numbers (beyond the small integers)
 * boxes each key it is asked.
 */
class IdHeads {
  private readonly keys: Int32Array;
  private readonly heads: Int32Array;
  private readonly shift: number;
  size = 0;

  constructor(entries: number) {
    let bits = 3;
    while (1 << bits < 2 * entries) bits++;
    this.keys = new Int32Array(1 << bits);
    this.heads = new Int32Array(1 << bits).fill(-1);
    this.shift = 32 - bits;
  }

  get(key: number): number {
    const mask = this.heads.length - 1;
    for (let i = Math.imul(key, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const head = this.heads[i]!;
      if (head < 0 || this.keys[i] === (key | 0)) return head;
    }
  }

  set(key: number, value: number): void {
    const mask = this.heads.length - 1;
    for (let i = Math.imul(key, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      if (this.heads[i]! < 0) {
        this.keys[i] = key;
        this.heads[i] = value;
        this.size++;
        return;
      }
      if (this.keys[i] === (key | 0)) {
        this.heads[i] = value;
        return;
      }
    }
  }
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function equal(b: Uint8Array, x: number, y: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}
