import {
  ANY_VALUE,
  ARRAY_VALUE,
  KEY_VALUE,
  KEY_VALUE_LIST,
  SPAN,
  STATUS,
  lenTag,
  varintTag,
} from './fields.js';
import { hexAt } from './hex.js';
import {
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  readFixed64BigInt,
  readVarint32,
  readVarintNumber,
  skipField,
  type Cursor,
} from './wire.js';

/** An attribute value as the summary needs it (arrays and maps as compact JSON text). */
export type AttrValue = string | number | boolean;

/** One held span, decoded (only the few spans of the traces being summarized are). */
export interface SpanInfo {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly attributes: ReadonlyMap<string, AttrValue>;
}

const decoder = new TextDecoder();

/**
 * Decodes one `Span` message (its bytes, as copied out of a validated request). Attributes keep
 * their last value per key (the anomaly processor appends its own after the span's).
 */
export function decodeSpan(b: Uint8Array, service: string): SpanInfo {
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let start = 0n;
  let end = 0n;
  let statusCode = 0;
  let statusMessage = '';
  const attributes = new Map<string, AttrValue>();
  const c: Cursor = { pos: 0 };
  while (c.pos < b.length) {
    const tag = readVarint32(b, c, b.length);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === WIRE_LEN) {
      const len = readVarint32(b, c, b.length);
      const vs = c.pos;
      c.pos += len;
      if (field === SPAN.trace_id) traceId = hexAt(b, vs, len);
      else if (field === SPAN.span_id) spanId = hexAt(b, vs, len);
      else if (field === SPAN.parent_span_id) parentSpanId = hexAt(b, vs, len);
      else if (field === SPAN.name) name = decoder.decode(b.subarray(vs, vs + len));
      else if (field === SPAN.attributes) readKeyValue(b, vs, vs + len, attributes);
      else if (field === SPAN.status) [statusCode, statusMessage] = readStatus(b, vs, vs + len);
    } else if (
      wire === WIRE_I64 &&
      (field === SPAN.start_time_unix_nano || field === SPAN.end_time_unix_nano)
    ) {
      if (field === SPAN.start_time_unix_nano) start = readFixed64BigInt(b, c.pos);
      else end = readFixed64BigInt(b, c.pos);
      c.pos += 8;
    } else if (wire === WIRE_VARINT && field === SPAN.kind) {
      kind = readVarint32(b, c, b.length);
    } else {
      skipField(b, c, wire, b.length);
    }
  }
  // Absolute times lose a few hundred ns as doubles; the duration is exact to the nanosecond.
  const startMs = Number(start) / 1e6;
  const durationMs = end > start ? Number(end - start) / 1e6 : 0;
  return {
    service,
    traceId,
    spanId,
    parentSpanId,
    name,
    kind,
    startMs,
    endMs: startMs + durationMs,
    durationMs,
    statusCode,
    statusMessage,
    attributes,
  };
}

function readStatus(b: Uint8Array, start: number, end: number): [number, string] {
  let code = 0;
  let message = '';
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag === varintTag(STATUS.code)) {
      code = readVarint32(b, c, end);
    } else if (tag === lenTag(STATUS.message)) {
      const len = readVarint32(b, c, end);
      message = decoder.decode(b.subarray(c.pos, c.pos + len));
      c.pos += len;
    } else {
      skipField(b, c, tag & 7, end);
    }
  }
  return [code, message];
}

/** KeyValue { key 1, value 2 } into `out`. */
function readKeyValue(
  b: Uint8Array,
  start: number,
  end: number,
  out: Map<string, AttrValue>,
): void {
  let key = '';
  let value: AttrValue | undefined;
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if ((tag & 7) !== WIRE_LEN) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const vs = c.pos;
    c.pos += len;
    if (tag >>> 3 === KEY_VALUE.key) key = decoder.decode(b.subarray(vs, vs + len));
    else if (tag >>> 3 === KEY_VALUE.value) value = readAnyValue(b, vs, vs + len);
  }
  if (key !== '' && value !== undefined) out.set(key, value);
}

/** AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7. */
function readAnyValue(b: Uint8Array, start: number, end: number): AttrValue | undefined {
  const json = anyValueJson(b, start, end);
  return json === null || typeof json === 'object' ? JSON.stringify(json) : json;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function anyValueJson(b: Uint8Array, start: number, end: number): Json {
  const c: Cursor = { pos: start };
  let out: Json = null;
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === WIRE_VARINT && field === ANY_VALUE.bool_value) {
      out = readVarint32(b, c, end) !== 0;
    } else if (wire === WIRE_VARINT && field === ANY_VALUE.int_value) out = readInt64(b, c, end);
    else if (wire === WIRE_I64 && field === ANY_VALUE.double_value) {
      out = new DataView(b.buffer, b.byteOffset + c.pos, 8).getFloat64(0, true);
      c.pos += 8;
    } else if (wire === WIRE_LEN) {
      const len = readVarint32(b, c, end);
      const vs = c.pos;
      c.pos += len;
      if (field === ANY_VALUE.string_value) out = decoder.decode(b.subarray(vs, vs + len));
      else if (field === ANY_VALUE.array_value) {
        out = listOf(b, vs, vs + len, (s, e) => anyValueJson(b, s, e));
      } else if (field === ANY_VALUE.kvlist_value) {
        const m = new Map<string, AttrValue>();
        listOf(b, vs, vs + len, (s, e) => readKeyValue(b, s, e, m));
        out = Object.fromEntries(m);
      } else if (field === ANY_VALUE.bytes_value) {
        out = Buffer.from(b.subarray(vs, vs + len)).toString('base64');
      }
    } else {
      skipField(b, c, wire, end);
    }
  }
  return out;
}

/** The values of ArrayValue.values and KeyValueList.values (the same field number). */
const VALUES_TAG = lenTag(ARRAY_VALUE.values);
if (KEY_VALUE_LIST.values !== ARRAY_VALUE.values) throw new Error('proto/: values fields differ');

function listOf<T>(
  b: Uint8Array,
  start: number,
  end: number,
  read: (s: number, e: number) => T,
): T[] {
  const out: T[] = [];
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag !== VALUES_TAG) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    out.push(read(c.pos, c.pos + len));
    c.pos += len;
  }
  return out;
}

/** An int64 varint as a number (two's complement for negative values). */
function readInt64(b: Uint8Array, c: Cursor, end: number): number {
  const v = readVarintNumber(b, c, end);
  return v >= 2 ** 63 ? v - 2 ** 64 : v;
}
