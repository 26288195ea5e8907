import { KEY_VALUE, RESOURCE, SPAN, STATUS, ANY_VALUE, lenTag, varintTag } from './fields.js';
import { internedString } from './string-cache.js';
import { WIRE_LEN, readVarint32, skipField, type Cursor } from './wire.js';

/**
 * Reading a few attributes and small fields of a validated span or resource in place, without
 * decoding the rest: whether an attribute key starts with `anomaly.`, a resource's `service.name`,
 * the ranges of a KeyValue, a span's attributes one by one, a Status code.
 */

// "anomaly." as bytes: the prefix of every attribute the anomaly processor writes.
const ANOMALY_PREFIX = new TextEncoder().encode('anomaly.');
/** The first byte of `anomaly.`, and the tag of KeyValue.key: a span scan's inline first check. */
export const PREFIX_FIRST = ANOMALY_PREFIX[0]!;
export const KEY_TAG = lenTag(KEY_VALUE.key);
const STATUS_CODE_TAG = varintTag(STATUS.code);
const RESOURCE_ATTRIBUTE_TAG = lenTag(RESOURCE.attributes);
const STRING_VALUE_TAG = lenTag(ANY_VALUE.string_value);
const SPAN_ATTRIBUTE_TAG = lenTag(SPAN.attributes);

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

export function readStatusCode(b: Uint8Array, start: number, end: number): number {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag === STATUS_CODE_TAG) return readVarint32(b, c, end);
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
    if (tag !== RESOURCE_ATTRIBUTE_TAG) {
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
    if (tag === STRING_VALUE_TAG) {
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
    if (field === KEY_VALUE.key) {
      out[0] = c.pos;
      out[1] = c.pos + len;
    } else if (field === KEY_VALUE.value) {
      out[2] = c.pos;
      out[3] = c.pos + len;
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
    if (tag !== SPAN_ATTRIBUTE_TAG) {
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
