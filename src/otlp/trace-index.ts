import { decodeBounded } from './bounded-text.js';
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, readVarint32, skipField, type Cursor } from './wire.js';

/**
 * A fast scan of a validated trace export request that finds what detection needs about each
 * span without decoding the rest: its service, name, kind, times, ids and status, and where its
 * bytes are (to tag it in place with `rewriteItems`). Strings are decoded for the few fields read,
 * and bounded: a name longer than MAX_NAME_BYTES (bounded-text.ts) is cut and marked, and only
 * that much of it is decoded. Ids stay as offsets into the buffer until asked for.
 */
export interface SpanRef {
  /** Offset and end of the Span message value in the request bytes. */
  readonly start: number;
  readonly end: number;
  /** Index into `TraceIndex.resources`. */
  readonly resource: number;
  readonly name: string;
  /** SpanKind enum value (0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer). */
  readonly kind: number;
  /** Start time in ms since the epoch (fractional). */
  readonly startMs: number;
  /** Duration in ms (fractional, exact to the nanosecond up to ~104 days). */
  readonly durationMs: number;
  /** Offsets of the 16-byte trace id, the 8-byte span id and parent span id (-1: root span). */
  readonly traceIdAt: number;
  readonly spanIdAt: number;
  readonly parentSpanIdAt: number;
  /** Status code (0 unset, 1 ok, 2 error). */
  readonly statusCode: number;
  /** Whether one of its attributes has a key starting with `anomaly.` (it was tagged before). */
  readonly anomalyAttributes: boolean;
}

export interface ResourceRef {
  /** The `service.name` resource attribute, or `unknown_service` as the SDKs default it. */
  readonly serviceName: string;
}

export interface TraceIndex {
  readonly bytes: Uint8Array;
  readonly resources: readonly ResourceRef[];
  readonly spans: readonly SpanRef[];
}

const decoder = new TextDecoder();

// Span names repeat: the same few hundred in every request. Decoding each one (and hashing the
// new string again in every Map lookup made with it) was the largest cost of the scan, so short
// names are interned: the bytes are hashed (FNV-1a), compared with the cached ones, and the cached
// string is returned. Bounded: the cache is dropped when it holds INTERN_MAX names. Longer texts
// are decoded each time, at most MAX_NAME_BYTES of them.
const INTERN_MAX = 8192;
const INTERN_MAX_BYTES = 128;
const interned = new Map<number, { bytes: Uint8Array; value: string }[]>();
let internedCount = 0;

/** The UTF-8 text `b[start, end)`, interned when short, cut and marked beyond MAX_NAME_BYTES. */
export function internedString(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len > INTERN_MAX_BYTES) return decodeBounded(b, start, end);
  let h = 0x811c9dc5 ^ len;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 16777619);
  let list = interned.get(h);
  if (list) {
    next: for (const e of list) {
      const eb = e.bytes;
      if (eb.length !== len) continue;
      for (let i = 0; i < len; i++) if (eb[i] !== b[start + i]) continue next;
      return e.value;
    }
  }
  const value = decoder.decode(b.subarray(start, end));
  if (internedCount >= INTERN_MAX) {
    interned.clear();
    internedCount = 0;
    list = undefined;
  }
  if (!list) interned.set(h, (list = []));
  list.push({ bytes: b.slice(start, end), value });
  internedCount++;
  return value;
}

export function indexSpans(bytes: Uint8Array): TraceIndex {
  const resources: ResourceRef[] = [];
  const spans: SpanRef[] = [];
  const c: Cursor = { pos: 0 };
  const end = bytes.length;
  while (c.pos < end) {
    const tag = readVarint32(bytes, c, end);
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const len = readVarint32(bytes, c, end);
      const rsEnd = c.pos + len;
      scanResourceSpans(bytes, c.pos, rsEnd, resources, spans);
      c.pos = rsEnd;
    } else {
      skipField(bytes, c, tag & 7, end);
    }
  }
  return { bytes, resources, spans };
}

function scanResourceSpans(
  b: Uint8Array,
  start: number,
  end: number,
  resources: ResourceRef[],
  spans: SpanRef[],
): void {
  const resourceIndex = resources.length;
  const resource: { serviceName: string } = { serviceName: 'unknown_service' };
  resources.push(resource);
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if ((tag & 7) !== WIRE_LEN) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const vs = c.pos;
    const ve = vs + len;
    const field = tag >>> 3;
    if (field === 1) {
      const name = findServiceName(b, vs, ve);
      if (name !== undefined) resource.serviceName = name;
    } else if (field === 2) {
      scanScopeSpans(b, vs, ve, resourceIndex, spans);
    }
    c.pos = ve;
  }
}

function scanScopeSpans(
  b: Uint8Array,
  start: number,
  end: number,
  resource: number,
  spans: SpanRef[],
): void {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag === ((2 << 3) | WIRE_LEN)) {
      const len = readVarint32(b, c, end);
      spans.push(scanSpan(b, c.pos, c.pos + len, resource));
      c.pos += len;
    } else {
      skipField(b, c, tag & 7, end);
    }
  }
}

function scanSpan(b: Uint8Array, start: number, end: number, resource: number): SpanRef {
  let name = '';
  let kind = 0;
  let startAt = -1;
  let endAt = -1;
  let traceIdAt = -1;
  let spanIdAt = -1;
  let parentSpanIdAt = -1;
  let statusCode = 0;
  let anomaly = false;
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === WIRE_LEN) {
      const len = readVarint32(b, c, end);
      const vs = c.pos;
      c.pos = vs + len;
      if (field === 9) {
        // Most keys are told apart by their first byte (KeyValue.key is written first), inline.
        if (!anomaly && (b[vs] !== KEY_TAG || b[vs + 2] === PREFIX_FIRST)) {
          anomaly = isAnomalyKeyValue(b, vs, vs + len);
        }
      } else if (field === 5) name = internedString(b, vs, vs + len);
      else if (field === 1) traceIdAt = vs;
      else if (field === 2) spanIdAt = vs;
      else if (field === 4 && len === 8) parentSpanIdAt = vs;
      else if (field === 15) statusCode = readStatusCode(b, vs, vs + len);
    } else if (wire === WIRE_I64 && (field === 7 || field === 8)) {
      if (field === 7) startAt = c.pos;
      else endAt = c.pos;
      c.pos += 8;
    } else if (wire === WIRE_VARINT && field === 6) {
      kind = readVarint32(b, c, end);
    } else {
      skipField(b, c, wire, end);
    }
  }
  return spanRef(
    b,
    start,
    end,
    resource,
    name,
    kind,
    startAt,
    endAt,
    traceIdAt,
    spanIdAt,
    parentSpanIdAt,
    statusCode,
    anomaly,
  );
}

function spanRef(
  b: Uint8Array,
  start: number,
  end: number,
  resource: number,
  name: string,
  kind: number,
  startAt: number,
  endAt: number,
  traceIdAt: number,
  spanIdAt: number,
  parentSpanIdAt: number,
  statusCode: number,
  anomalyAttributes: boolean,
): SpanRef {
  const startMs = startAt < 0 ? 0 : nanosToMs(b, startAt);
  const durationMs = startAt < 0 || endAt < 0 ? 0 : diffNanosToMs(b, endAt, startAt);
  return {
    start,
    end,
    resource,
    name,
    kind,
    startMs,
    durationMs,
    traceIdAt,
    spanIdAt,
    parentSpanIdAt,
    statusCode,
    anomalyAttributes,
  };
}

// The int32 fields of a span in a `SpanLayout`; -1 where the span has no such field.
export const L_START = 0;
export const L_END = 1;
export const L_RESOURCE = 2;
export const L_NAME = 3;
export const L_NAME_END = 4;
/** Offset of the kind varint. */
export const L_KIND = 5;
/** Offsets of the fixed64 start and end times. */
export const L_START_TIME = 6;
export const L_END_TIME = 7;
export const L_TRACE_ID = 8;
export const L_SPAN_ID = 9;
export const L_PARENT_SPAN_ID = 10;
/** Offset and end of the Status message value. */
export const L_STATUS = 11;
export const L_STATUS_END = 12;
/** 1 when one of the span's attributes has a key starting with `anomaly.` (isAnomalyKeyValue). */
export const L_ANOMALY = 13;
export const L_STRIDE = 14;

/**
 * Where the fields detection reads lie in a trace request: offsets only, recorded by the
 * receiver's validation walk as it passes them (`validateRequest(..., { layout: true })`), so that
 * detection does not scan the request a second time. `indexFromLayout` turns it into the same
 * `TraceIndex` as `indexSpans(bytes)`.
 */
export class SpanLayout {
  /** L_STRIDE int32 per span, in request order. */
  data = new Int32Array(64 * L_STRIDE);
  count = 0;
  /** Per ResourceSpans: the offset and end of its Resource message value, or -1, -1. */
  readonly resources: number[] = [];

  constructor(readonly bytes: Uint8Array) {}

  /** A ResourceSpans begins: the spans that follow belong to it. */
  addResource(): void {
    this.resources.push(-1, -1);
  }

  setResource(start: number, end: number): void {
    const n = this.resources.length;
    if (n === 0) return;
    this.resources[n - 2] = start;
    this.resources[n - 1] = end;
  }

  /** Starts a span's record; returns where its fields go in `data`. */
  beginSpan(start: number, end: number): number {
    let data = this.data;
    const at = this.count * L_STRIDE;
    if (at + L_STRIDE > data.length) {
      const grown = new Int32Array(data.length * 2);
      grown.set(data);
      this.data = data = grown;
    }
    data.fill(-1, at, at + L_STRIDE);
    data[at + L_START] = start;
    data[at + L_END] = end;
    data[at + L_RESOURCE] = (this.resources.length >> 1) - 1;
    this.count++;
    return at;
  }
}

/** The `TraceIndex` of `layout.bytes`, from the offsets validation recorded: no scan. */
export function indexFromLayout(layout: SpanLayout): TraceIndex {
  const b = layout.bytes;
  const res = layout.resources;
  const resources: ResourceRef[] = [];
  for (let i = 0; i < res.length; i += 2) {
    const name = res[i]! < 0 ? undefined : findServiceName(b, res[i]!, res[i + 1]!);
    resources.push({ serviceName: name ?? 'unknown_service' });
  }
  const d = layout.data;
  const spans: SpanRef[] = new Array<SpanRef>(layout.count);
  const c: Cursor = { pos: 0 };
  for (let i = 0, at = 0; i < layout.count; i++, at += L_STRIDE) {
    const end = d[at + L_END]!;
    const nameAt = d[at + L_NAME]!;
    const kindAt = d[at + L_KIND]!;
    let kind = 0;
    if (kindAt >= 0) {
      c.pos = kindAt;
      kind = readVarint32(b, c, end);
    }
    const statusAt = d[at + L_STATUS]!;
    spans[i] = spanRef(
      b,
      d[at + L_START]!,
      end,
      Math.max(0, d[at + L_RESOURCE]!),
      nameAt < 0 ? '' : internedString(b, nameAt, d[at + L_NAME_END]!),
      kind,
      d[at + L_START_TIME]!,
      d[at + L_END_TIME]!,
      d[at + L_TRACE_ID]!,
      d[at + L_SPAN_ID]!,
      d[at + L_PARENT_SPAN_ID]!,
      statusAt < 0 ? 0 : readStatusCode(b, statusAt, d[at + L_STATUS_END]!),
      d[at + L_ANOMALY] === 1,
    );
  }
  return { bytes: b, resources, spans };
}

// "anomaly." as bytes: the prefix of every attribute the anomaly processor writes.
const ANOMALY_PREFIX = new TextEncoder().encode('anomaly.');
const PREFIX_FIRST = ANOMALY_PREFIX[0]!;
const KEY_TAG = (1 << 3) | WIRE_LEN;

/**
 * Whether a KeyValue message `b[start, end)` has a key starting with `anomaly.`: a look at its
 * first bytes (key tag, length, first character), as cheap as a span's scan can afford per
 * attribute; the rest of the prefix is compared only for keys starting with `a`.
 */
export function isAnomalyKeyValue(b: Uint8Array, start: number, end: number): boolean {
  const p = ANOMALY_PREFIX;
  if (b[start] !== KEY_TAG || b[start + 2] !== p[0]) {
    return b[start] !== KEY_TAG && keyFieldHasPrefix(b, start, end);
  }
  const len = b[start + 1]!;
  if (len < p.length || start + 2 + p.length > end) return false;
  for (let i = 1; i < p.length; i++) if (b[start + 2 + i] !== p[i]) return false;
  return true;
}

/** The general case (a key not written first): finds field 1 and compares its prefix. */
function keyFieldHasPrefix(b: Uint8Array, start: number, end: number): boolean {
  keyValueAt(b, start, end, kv);
  return bytesAre(b, kv[0]!, kv[1]!, ANOMALY_PREFIX, false);
}

function readStatusCode(b: Uint8Array, start: number, end: number): number {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag === ((3 << 3) | WIRE_VARINT)) return readVarint32(b, c, end);
    skipField(b, c, tag & 7, end);
  }
  return 0;
}

/**
 * The `service.name` of a Resource message (cut and marked beyond MAX_NAME_BYTES):
 * Resource.attributes (1) -> KeyValue{key 1, value 2 -> AnyValue.string_value 1}.
 */
export function findServiceName(b: Uint8Array, start: number, end: number): string | undefined {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag !== ((1 << 3) | WIRE_LEN)) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const kvEnd = c.pos + len;
    const value = serviceNameValue(b, c.pos, kvEnd);
    if (value !== undefined) return value;
    c.pos = kvEnd;
  }
  return undefined;
}

// "service.name" as bytes, compared without decoding every attribute key.
const SERVICE_NAME = new TextEncoder().encode('service.name');

function serviceNameValue(b: Uint8Array, start: number, end: number): string | undefined {
  const value = valueOfKey(b, start, end, SERVICE_NAME);
  if (value === undefined) return undefined;
  const [valueStart, valueEnd] = value;
  const v: Cursor = { pos: valueStart };
  while (v.pos < valueEnd) {
    const tag = readVarint32(b, v, valueEnd);
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const len = readVarint32(b, v, valueEnd);
      return internedString(b, v.pos, v.pos + len);
    }
    skipField(b, v, tag & 7, valueEnd);
  }
  return undefined;
}

/**
 * The ranges of a KeyValue message {key 1, value 2} in `b[start, end)`, into `out`: key start, key
 * end, value start, value end; -1 for what it does not have.
 */
export function keyValueAt(b: Uint8Array, start: number, end: number, out: number[]): void {
  out[0] = out[1] = out[2] = out[3] = -1;
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if ((tag & 7) !== WIRE_LEN) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const field = tag >>> 3;
    if (field === 1 || field === 2) {
      out[field * 2 - 2] = c.pos;
      out[field * 2 - 1] = c.pos + len;
    }
    c.pos += len;
  }
}

/**
 * Calls `fn` with the range of each of a span's attributes (KeyValue messages), and where its
 * field starts, in the span's fields `b[start, end)`.
 */
export function forEachAttribute(
  b: Uint8Array,
  start: number,
  end: number,
  fn: (kvStart: number, kvEnd: number, fieldStart: number) => void,
): void {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const fieldStart = c.pos;
    const tag = readVarint32(b, c, end);
    if (tag !== ((9 << 3) | WIRE_LEN)) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    c.pos += len;
    fn(c.pos - len, c.pos, fieldStart);
  }
}

const kv: number[] = [-1, -1, -1, -1];

/** Whether `b[start, end)` starts with the bytes `prefix` (`exact`: is exactly them). */
function bytesAre(
  b: Uint8Array,
  start: number,
  end: number,
  prefix: Uint8Array,
  exact: boolean,
): boolean {
  const len = end - start;
  if (start < 0 || len < prefix.length || (exact && len !== prefix.length)) return false;
  for (let i = 0; i < prefix.length; i++) if (b[start + i] !== prefix[i]) return false;
  return true;
}

/**
 * The AnyValue range `[start, end)` of a KeyValue message {key 1, value 2} whose key is `key`
 * (compared as bytes, without decoding it); undefined when the key is another or there is no value.
 */
export function valueOfKey(
  b: Uint8Array,
  start: number,
  end: number,
  key: Uint8Array,
): [number, number] | undefined {
  keyValueAt(b, start, end, kv);
  if (!bytesAre(b, kv[0]!, kv[1]!, key, true) || kv[2]! < 0) return undefined;
  return [kv[2]!, kv[3]!];
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function nanosToMs(b: Uint8Array, p: number): number {
  return (u32(b, p + 4) * 4294967296 + u32(b, p)) / 1e6;
}

/** (end - start) in ms, computed on the 32-bit halves so the difference keeps nanosecond precision. */
function diffNanosToMs(b: Uint8Array, endAt: number, startAt: number): number {
  const hi = u32(b, endAt + 4) - u32(b, startAt + 4);
  const lo = u32(b, endAt) - u32(b, startAt);
  return (hi * 4294967296 + lo) / 1e6;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of `len` bytes at `at` (trace and span ids, as OTLP JSON and Jaeger write them). */
export function hexAt(b: Uint8Array, at: number, len: number): string {
  if (at < 0) return '';
  let s = '';
  for (let i = at; i < at + len; i++) s += HEX[b[i]!];
  return s;
}
