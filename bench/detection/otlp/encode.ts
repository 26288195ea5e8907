import { ProtoWriter, varintSize } from '../../../src/otlp/wire.js';
import type { Fleet } from '../sim/fleet.js';
import type { SimSpan } from '../sim/traffic.js';

/**
 * Encodes simulated spans as an OTLP `ExportTraceServiceRequest` (protobuf), one ResourceSpans per
 * service, as an SDK or an upstream collector sends them. Written directly into one buffer of the
 * exact size (the benchmark encodes tens of millions of spans; protobufjs would dominate its time).
 *
 * Ids: the trace id carries `traceId` in its last 8 bytes, the span id is `spanId` (big-endian),
 * so verdicts read from the processor's output map back to the simulated spans.
 */
const WIRE_LEN = 2;
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const utf8 = new TextEncoder();

/** A length-delimited field (tag, length, bytes) as bytes. */
const lenField = (field: number, body: Uint8Array) =>
  new ProtoWriter(body.length + 8).tag(field, WIRE_LEN).bytes(body).finish();

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
};

export class RequestEncoder {
  /** Per operation: the span's name (field 5) and kind (field 6) fields. */
  private readonly opFields: Uint8Array[];
  /** Per operation: its service's index. */
  private readonly serviceOf: Int32Array;
  /** Per service: Resource (field 1) and InstrumentationScope (field 1 of ScopeSpans). */
  private readonly resources: Uint8Array[];
  private readonly scope = lenField(1, lenField(1, utf8.encode('hourglass-detection-bench')));

  constructor(fleet: Fleet) {
    const services = [...new Set(fleet.ops.map((o) => o.service))];
    this.serviceOf = Int32Array.from(fleet.ops.map((o) => services.indexOf(o.service)));
    this.opFields = fleet.ops.map((o) =>
      concat(lenField(5, utf8.encode(o.name)), Uint8Array.of((6 << 3) | WIRE_VARINT, o.kind)),
    );
    this.resources = services.map((s) => {
      const value = lenField(2, lenField(1, utf8.encode(s)));
      const kv = lenField(1, concat(lenField(1, utf8.encode('service.name')), value));
      return lenField(1, kv);
    });
  }

  encode(spans: readonly SimSpan[]): Uint8Array {
    const byService: SimSpan[][] = this.resources.map(() => []);
    for (const s of spans) byService[this.serviceOf[s.op]!]!.push(s);
    const spanSizes =
      spans.length === 0 ? [] : byService.map((list) => list.map((s) => this.spanSize(s)));
    let total = 0;
    const scopeSizes: number[] = [];
    const rsSizes: number[] = [];
    byService.forEach((list, i) => {
      if (list.length === 0) return;
      let scopeBody = this.scope.length;
      for (const size of spanSizes[i]!) scopeBody += 1 + varintSize(size) + size;
      const rsBody = this.resources[i]!.length + 1 + varintSize(scopeBody) + scopeBody;
      scopeSizes[i] = scopeBody;
      rsSizes[i] = rsBody;
      total += 1 + varintSize(rsBody) + rsBody;
    });
    const out = new Uint8Array(total);
    const w = { b: out, p: 0 };
    byService.forEach((list, i) => {
      if (list.length === 0) return;
      header(w, 1, rsSizes[i]!);
      raw(w, this.resources[i]!);
      header(w, 2, scopeSizes[i]!);
      raw(w, this.scope);
      list.forEach((s, k) => {
        header(w, 2, spanSizes[i]![k]!);
        this.span(w, s);
      });
    });
    if (w.p !== total) throw new Error(`encoded ${w.p} bytes, expected ${total}`);
    return out;
  }

  private spanSize(s: SimSpan): number {
    return 18 + 10 + (s.parentId ? 10 : 0) + this.opFields[s.op]!.length + 18 + (s.error ? 4 : 0);
  }

  private span(w: Writer, s: SimSpan): void {
    const b = w.b;
    b[w.p++] = (1 << 3) | WIRE_LEN;
    b[w.p++] = 16;
    w.p += 8; // zeros
    id(w, s.traceId);
    b[w.p++] = (2 << 3) | WIRE_LEN;
    b[w.p++] = 8;
    id(w, s.spanId);
    if (s.parentId) {
      b[w.p++] = (4 << 3) | WIRE_LEN;
      b[w.p++] = 8;
      id(w, s.parentId);
    }
    raw(w, this.opFields[s.op]!);
    // start and end in ns: whole ms start, duration rounded to the ns.
    const [lo, hi] = msToNanos(s.startMs);
    b[w.p++] = (7 << 3) | WIRE_I64;
    fixed64(w, lo, hi);
    const d = Math.round(s.durationMs * 1e6);
    const sum = lo + (d % 4294967296);
    b[w.p++] = (8 << 3) | WIRE_I64;
    fixed64(w, sum % 4294967296, hi + Math.floor(d / 4294967296) + Math.floor(sum / 4294967296));
    if (s.error) {
      // status (15) { code (3): STATUS_CODE_ERROR }
      b[w.p++] = (15 << 3) | WIRE_LEN;
      b[w.p++] = 2;
      b[w.p++] = (3 << 3) | WIRE_VARINT;
      b[w.p++] = 2;
    }
  }
}

interface Writer {
  b: Uint8Array;
  p: number;
}

function header(w: Writer, field: number, len: number): void {
  w.b[w.p++] = (field << 3) | WIRE_LEN;
  while (len >= 0x80) {
    w.b[w.p++] = (len % 128) | 0x80;
    len = Math.floor(len / 128);
  }
  w.b[w.p++] = len;
}

function raw(w: Writer, bytes: Uint8Array): void {
  w.b.set(bytes, w.p);
  w.p += bytes.length;
}

/** 8 bytes, big-endian, of a non-negative integer below 2^53. */
function id(w: Writer, n: number): void {
  const hi = Math.floor(n / 4294967296);
  const lo = n >>> 0;
  const b = w.b;
  b[w.p++] = hi >>> 24;
  b[w.p++] = (hi >>> 16) & 0xff;
  b[w.p++] = (hi >>> 8) & 0xff;
  b[w.p++] = hi & 0xff;
  b[w.p++] = lo >>> 24;
  b[w.p++] = (lo >>> 16) & 0xff;
  b[w.p++] = (lo >>> 8) & 0xff;
  b[w.p++] = lo & 0xff;
}

function fixed64(w: Writer, lo: number, hi: number): void {
  const b = w.b;
  for (let k = 0; k < 4; k++) b[w.p++] = (lo >>> (8 * k)) & 0xff;
  for (let k = 0; k < 4; k++) b[w.p++] = (hi >>> (8 * k)) & 0xff;
}

/** Whole ms to ns as two 32-bit words, exactly (ms * 10^6 is beyond 2^53). */
export function msToNanos(ms: number): [number, number] {
  const top = Math.floor(ms / 65536);
  const bottom = ms - top * 65536;
  const a = top * 1_000_000; // times 2^16 below
  const low = (a % 65536) * 65536 + bottom * 1_000_000;
  return [low % 4294967296, Math.floor(a / 65536) + Math.floor(low / 4294967296)];
}
