import { KEY_VALUE, RESOURCE, SPAN, STATUS, ANY_VALUE, lenTag, varintTag } from './fields.js';
import { internedString } from './string-cache.js';
import { FieldReader } from './field-reader.js';
import { readVarint32, skipField, type Cursor } from './wire.js';

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
const VALUE_TAG = lenTag(KEY_VALUE.value);
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

/** The general case (a key not written first): finds the key field and compares its prefix. */
function keyFieldHasPrefix(b: Uint8Array, start: number, end: number): boolean {
  keyValueAt(b, start, end, kv);
  return bytesAre(b, kv[0]!, kv[1]!, ANOMALY_PREFIX, false);
}

// The lengths of the two keys of an HTTP response status code: `http.response.status_code`, and
// `http.status_code` (before semantic conventions 1.23).
const STATUS_CODE_KEY_LENGTH = 25;
const OLD_STATUS_CODE_KEY_LENGTH = 16;

/**
 * Whether the KeyValue `b[start, end)` may be an HTTP response status code: false only when it is,
 * as SDKs write it, just a key (field 1, first) and a value (field 2) and its key's length is
 * neither status code key's. Anything else (a long key, fields in another order, a repeated key)
 * may be one. The span scan and the receiver's layout note the first attribute that may be one
 * (`SpanRef.codeAttrAt`), so that the error detector reads a server span's code from there and
 * spans without one not at all (rates/error-detail.ts).
 */
export function mayBeStatusCode(b: Uint8Array, start: number, end: number): boolean {
  const keyLen = b[start + 1]!;
  if (
    b[start] !== KEY_TAG ||
    keyLen >= 0x80 ||
    keyLen === STATUS_CODE_KEY_LENGTH ||
    keyLen === OLD_STATUS_CODE_KEY_LENGTH
  ) {
    return true;
  }
  const valueTag = start + 2 + keyLen;
  if (valueTag === end) return false;
  if (b[valueTag] !== VALUE_TAG) return true;
  const valueLen = b[valueTag + 1]!;
  return !(valueLen < 0x80 && valueTag + 2 + valueLen === end);
}

/** Status.code; on the per-span path, so written out by hand (no reader allocated per span). */
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
 * Resource.attributes -> KeyValue {key, value -> AnyValue.string_value}.
 */
export function findServiceName(b: Uint8Array, start: number, end: number): string | undefined {
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag !== RESOURCE_ATTRIBUTE_TAG) {
      r.skip();
      continue;
    }
    const value = serviceNameValue(b, r.value(), r.valueEnd);
    if (value !== undefined) return value;
  }
  return undefined;
}

// "service.name" as bytes, compared without decoding every attribute key.
const SERVICE_NAME = new TextEncoder().encode('service.name');

function serviceNameValue(b: Uint8Array, start: number, end: number): string | undefined {
  const value = valueOfKey(b, start, end, SERVICE_NAME);
  if (value === undefined) return undefined;
  const [valueStart, valueEnd] = value;
  const r = new FieldReader(b, valueStart, valueEnd);
  while (r.next()) {
    if (r.tag === STRING_VALUE_TAG) return internedString(b, r.value(), r.valueEnd);
    r.skip();
  }
  return undefined;
}

/**
 * The ranges of a KeyValue message {key, value} in `b[start, end)`, into `out`: key start, key
 * end, value start, value end; -1 for what it does not have.
 */
export function keyValueAt(b: Uint8Array, start: number, end: number, out: number[]): void {
  out[0] = out[1] = out[2] = out[3] = -1;
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === KEY_TAG) {
      out[0] = r.value();
      out[1] = r.valueEnd;
    } else if (r.tag === VALUE_TAG) {
      out[2] = r.value();
      out[3] = r.valueEnd;
    } else r.skip();
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
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === SPAN_ATTRIBUTE_TAG) fn(r.value(), r.valueEnd, r.fieldStart);
    else r.skip();
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
 * The AnyValue range `[start, end)` of a KeyValue message {key, value} whose key is `key`
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
