import { decodeBounded } from '../../../../otlp/bounded-text.js';
import { FieldReader } from '../../../../otlp/field-reader.js';
import {
  ANY_VALUE,
  EVENT,
  KEY_VALUE,
  SPAN,
  STATUS,
  lenTag,
  varintTag,
} from '../../../../otlp/fields.js';
import {
  forEachAttribute,
  keyValueAt,
  mayBeStatusCode,
  type SpanRef,
} from '../../../../otlp/trace-index.js';
import { WIRE_VARINT } from '../../../../otlp/wire.js';

/**
 * What the error detector reads of a span beyond the trace index: whether it failed, and what
 * failed. A span failed when its status is ERROR, or, for an HTTP server span without a status
 * (UNSET), when its response status code is 5xx: the semantic conventions leave 4xx of a server
 * unset (the client's mistake) and mark 5xx as errors, but not every instrumentation sets the
 * status. What failed (read only for error spans, which are few): the `exception.type` of its
 * first `exception` event, else its status message, else its `error.type`, else `HTTP <code>`.
 */

const STATUS_ERROR = 2;
const SERVER = 2;
const enc = (s: string) => new TextEncoder().encode(s);
// Their lengths are those mayBeStatusCode (otlp/span-attributes.ts) lets through.
const STATUS_CODE_KEY = enc('http.response.status_code');
const OLD_STATUS_CODE_KEY = enc('http.status_code');
// The same as little-endian 32-bit words, compared four bytes a load (`isStatusCodeKey`).
const [K0, K1, K2, K3, K4, K5] = wordsOf(STATUS_CODE_KEY);
const K24 = STATUS_CODE_KEY[24]!;
const [O0, O1, O2, O3] = wordsOf(OLD_STATUS_CODE_KEY);
const KEY_TAG = lenTag(KEY_VALUE.key);
const VALUE_TAG = lenTag(KEY_VALUE.value);
const STRING_TAG = lenTag(ANY_VALUE.string_value);
const INT_TAG = varintTag(ANY_VALUE.int_value);
const EXCEPTION = enc('exception');
const EXCEPTION_TYPE = enc('exception.type');
const ERROR_TYPE = enc('error.type');

const kv = [-1, -1, -1, -1];

/**
 * Whether a span failed (see above). `view` is a DataView of `b` (`viewOf`): a caller that reads
 * many spans of one request makes it once.
 */
export function isErrorSpan(b: Uint8Array, span: SpanRef, view: DataView = viewOf(b)): boolean {
  if (span.statusCode === STATUS_ERROR) return true;
  if (span.statusCode !== 0 || span.kind !== SERVER) return false;
  const code = httpStatusCode(b, span, view);
  return code >= 500 && code <= 599;
}

/** A DataView of all of `b`. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The span's HTTP response status code, 0 when it has none: the value of its first attribute
 * keyed `http.response.status_code` or `http.status_code` that holds a code. Read for every server
 * span without a status, so it starts at the first attribute that may be one, which the span scan
 * or the receiver's layout noted (`SpanRef.codeAttrAt`, `mayBeStatusCode`): a span without any is
 * not read at all, and one with a code mostly holds it there.
 */
export function httpStatusCode(b: Uint8Array, span: SpanRef, view: DataView = viewOf(b)): number {
  if (span.codeAttrAt < 0) return 0;
  const first = statusCodeAt(b, view, span.codeAttrAt, span.codeAttrEnd);
  if (first !== 0) return first;
  // The attributes after it, passed over as the scan did (mayBeStatusCode).
  const r = new FieldReader(b, span.codeAttrEnd, span.end);
  while (r.next()) {
    if (!r.isLen(SPAN.attributes)) {
      r.skip();
      continue;
    }
    const s = r.value();
    const e = r.valueEnd;
    if (!mayBeStatusCode(b, s, e)) continue;
    const code = statusCodeAt(b, view, s, e);
    if (code !== 0) return code;
  }
  return 0;
}

/** The code a KeyValue `b[start, end)` holds when its key is a status code key; else 0. */
function statusCodeAt(b: Uint8Array, view: DataView, start: number, end: number): number {
  // As SDKs write it, a key and a value, each with a one-byte length: read in place.
  const keyLen = b[start + 1]!;
  const valueTag = start + 2 + keyLen;
  const valueLen = b[valueTag + 1]!;
  if (
    b[start] === KEY_TAG &&
    keyLen < 0x80 &&
    b[valueTag] === VALUE_TAG &&
    valueLen < 0x80 &&
    valueTag + 2 + valueLen === end
  ) {
    return isStatusCodeKey(view, b, start + 2, keyLen) ? anyValueCode(b, valueTag + 2, end) : 0;
  }
  keyValueAt(b, start, end, kv);
  if (
    kv[2]! < 0 ||
    (!keyIs(b, kv[0]!, kv[1]!, STATUS_CODE_KEY) && !keyIs(b, kv[0]!, kv[1]!, OLD_STATUS_CODE_KEY))
  ) {
    return 0;
  }
  return intOrNumericString(b, kv[2]!, kv[3]!);
}

/**
 * `intOrNumericString` of an AnyValue `b[start, end)`, read in place when it is one field as SDKs
 * write it: a string with a one-byte length, or an int of one or two bytes (0 to 16383).
 */
function anyValueCode(b: Uint8Array, start: number, end: number): number {
  const tag = b[start]!;
  if (tag === STRING_TAG) {
    const len = b[start + 1]!;
    if (len < 0x80 && start + 2 + len === end) return len <= 3 ? digits(b, start + 2, end) : 0;
  } else if (tag === INT_TAG) {
    const lo = b[start + 1]!;
    if (lo < 0x80 && start + 2 === end) return lo;
    const hi = b[start + 2]!;
    if (lo >= 0x80 && hi < 0x80 && start + 3 === end) return (lo & 0x7f) | (hi << 7);
  }
  return intOrNumericString(b, start, end);
}

/** What failed, bounded (MAX_NAME_BYTES); undefined when the span says nothing of it. */
export function errorTypeOf(b: Uint8Array, span: SpanRef): string | undefined {
  let exceptionType: string | undefined;
  let message: string | undefined;
  const r = new FieldReader(b, span.start, span.end);
  while (r.next()) {
    if (r.isLen(SPAN.events) && exceptionType === undefined) {
      const vs = r.value();
      exceptionType = exceptionTypeOf(b, vs, r.valueEnd);
    } else if (r.isLen(SPAN.status)) {
      const vs = r.value();
      message = stringField(b, vs, r.valueEnd, STATUS.message) ?? message;
    } else r.skip();
  }
  if (exceptionType !== undefined) return exceptionType;
  if (message !== undefined) return message;
  let errorType: string | undefined;
  forEachAttribute(b, span.start, span.end, (s, e) => {
    keyValueAt(b, s, e, kv);
    if (errorType === undefined && kv[2]! >= 0 && keyIs(b, kv[0]!, kv[1]!, ERROR_TYPE)) {
      errorType = stringField(b, kv[2]!, kv[3]!, ANY_VALUE.string_value);
    }
  });
  if (errorType !== undefined) return errorType;
  const code = httpStatusCode(b, span);
  return code > 0 ? `HTTP ${code}` : undefined;
}

/** An Event: the `exception.type` of an `exception` event. */
function exceptionTypeOf(b: Uint8Array, start: number, end: number): string | undefined {
  const r = new FieldReader(b, start, end);
  let isException = false;
  let type: string | undefined;
  while (r.next()) {
    if (r.isLen(EVENT.name)) {
      const vs = r.value();
      isException = keyIs(b, vs, r.valueEnd, EXCEPTION);
    } else if (r.isLen(EVENT.attributes) && type === undefined) {
      const vs = r.value();
      keyValueAt(b, vs, r.valueEnd, kv);
      if (kv[2]! >= 0 && keyIs(b, kv[0]!, kv[1]!, EXCEPTION_TYPE)) {
        type = stringField(b, kv[2]!, kv[3]!, ANY_VALUE.string_value);
      }
    } else r.skip();
  }
  return isException ? type : undefined;
}

/** The string field `field` of a message in `b[start, end)`, bounded; undefined when absent or empty. */
function stringField(b: Uint8Array, start: number, end: number, field: number): string | undefined {
  const r = new FieldReader(b, start, end);
  let out: string | undefined;
  while (r.next()) {
    if (!r.isLen(field)) {
      r.skip();
      continue;
    }
    const vs = r.value();
    if (r.valueEnd > vs) out = decodeBounded(b, vs, r.valueEnd);
  }
  return out;
}

/** AnyValue {int_value} or {string_value} holding digits, as a number; 0 otherwise. */
function intOrNumericString(b: Uint8Array, start: number, end: number): number {
  const r = new FieldReader(b, start, end);
  let out = 0;
  while (r.next()) {
    if (r.field === ANY_VALUE.int_value && r.wire === WIRE_VARINT) {
      out = r.varint();
    } else if (r.isLen(ANY_VALUE.string_value)) {
      const vs = r.value();
      const len = r.valueEnd - vs;
      if (len > 0 && len <= 3) out = digits(b, vs, r.valueEnd);
    } else r.skip();
  }
  return out;
}

/** The number `b[start, end)` writes in decimal digits; 0 when another byte is among them. */
function digits(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) return 0;
    n = n * 10 + d;
  }
  return n;
}

/** The little-endian 32-bit words of `key`'s whole words. */
function wordsOf(key: Uint8Array): number[] {
  const view = viewOf(key);
  return Array.from({ length: key.length >> 2 }, (_, i) => view.getInt32(4 * i, true));
}

/**
 * Whether the `len` bytes at `k` of `b` (`view` a DataView of it) are a status code key: four
 * bytes a load, against constants. Byte by byte, the 25-byte key was most of a server span's
 * status code read; four bytes a compare read byte by byte, most of what was left.
 */
function isStatusCodeKey(view: DataView, b: Uint8Array, k: number, len: number): boolean {
  if (len === STATUS_CODE_KEY.length) {
    return (
      view.getInt32(k, true) === K0 &&
      view.getInt32(k + 4, true) === K1 &&
      view.getInt32(k + 8, true) === K2 &&
      view.getInt32(k + 12, true) === K3 &&
      view.getInt32(k + 16, true) === K4 &&
      view.getInt32(k + 20, true) === K5 &&
      b[k + 24] === K24
    );
  }
  return (
    len === OLD_STATUS_CODE_KEY.length &&
    view.getInt32(k, true) === O0 &&
    view.getInt32(k + 4, true) === O1 &&
    view.getInt32(k + 8, true) === O2 &&
    view.getInt32(k + 12, true) === O3
  );
}

function keyIs(b: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (start < 0 || end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
  return true;
}
