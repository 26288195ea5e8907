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
import { FieldReader } from './field-reader.js';
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, readFixed64BigInt } from './wire.js';

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
const STATUS_CODE_TAG = varintTag(STATUS.code);
const STATUS_MESSAGE_TAG = lenTag(STATUS.message);
const KEY_TAG = lenTag(KEY_VALUE.key);
const VALUE_TAG = lenTag(KEY_VALUE.value);

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
  const r = new FieldReader(b);
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (wire === WIRE_LEN) {
      const vs = r.value();
      const ve = r.valueEnd;
      if (field === SPAN.trace_id) traceId = hexAt(b, vs, ve - vs);
      else if (field === SPAN.span_id) spanId = hexAt(b, vs, ve - vs);
      else if (field === SPAN.parent_span_id) parentSpanId = hexAt(b, vs, ve - vs);
      else if (field === SPAN.name) name = decoder.decode(b.subarray(vs, ve));
      else if (field === SPAN.attributes) readKeyValue(b, vs, ve, attributes);
      else if (field === SPAN.status) [statusCode, statusMessage] = readStatus(b, vs, ve);
    } else if (wire === WIRE_I64 && field === SPAN.start_time_unix_nano) {
      start = readFixed64BigInt(b, r.fixed64At());
    } else if (wire === WIRE_I64 && field === SPAN.end_time_unix_nano) {
      end = readFixed64BigInt(b, r.fixed64At());
    } else if (wire === WIRE_VARINT && field === SPAN.kind) {
      kind = r.varint32();
    } else {
      r.skip();
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
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === STATUS_CODE_TAG) code = r.varint32();
    else if (r.tag === STATUS_MESSAGE_TAG)
      message = decoder.decode(b.subarray(r.value(), r.valueEnd));
    else r.skip();
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
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === KEY_TAG) key = decoder.decode(b.subarray(r.value(), r.valueEnd));
    else if (r.tag === VALUE_TAG) value = readAnyValue(b, r.value(), r.valueEnd);
    else r.skip();
  }
  if (key !== '' && value !== undefined) out.set(key, value);
}

/** AnyValue (string, bool, int, double, array, kvlist or bytes) as an attribute value. */
function readAnyValue(b: Uint8Array, start: number, end: number): AttrValue | undefined {
  const json = anyValueJson(b, start, end);
  return json === null || typeof json === 'object' ? JSON.stringify(json) : json;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function anyValueJson(b: Uint8Array, start: number, end: number): Json {
  const r = new FieldReader(b, start, end);
  let out: Json = null;
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (wire === WIRE_VARINT && field === ANY_VALUE.bool_value) out = r.varint32() !== 0;
    else if (wire === WIRE_VARINT && field === ANY_VALUE.int_value) out = int64(r.varint());
    else if (wire === WIRE_I64 && field === ANY_VALUE.double_value) {
      out = new DataView(b.buffer, b.byteOffset + r.fixed64At(), 8).getFloat64(0, true);
    } else if (wire === WIRE_LEN) {
      const vs = r.value();
      const ve = r.valueEnd;
      if (field === ANY_VALUE.string_value) out = decoder.decode(b.subarray(vs, ve));
      else if (field === ANY_VALUE.array_value) {
        out = listOf(b, vs, ve, (s, e) => anyValueJson(b, s, e));
      } else if (field === ANY_VALUE.kvlist_value) {
        const m = new Map<string, AttrValue>();
        listOf(b, vs, ve, (s, e) => readKeyValue(b, s, e, m));
        out = Object.fromEntries(m);
      } else if (field === ANY_VALUE.bytes_value) {
        out = Buffer.from(b.subarray(vs, ve)).toString('base64');
      }
    } else {
      r.skip();
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
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === VALUES_TAG) out.push(read(r.value(), r.valueEnd));
    else r.skip();
  }
  return out;
}

/** An int64 varint read as a number, as a signed number (two's complement for negative values). */
function int64(v: number): number {
  return v >= 2 ** 63 ? v - 2 ** 64 : v;
}
