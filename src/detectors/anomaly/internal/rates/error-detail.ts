import { decodeBounded } from '../../../../otlp/bounded-text.js';
import { FieldReader } from '../../../../otlp/field-reader.js';
import { ANY_VALUE, EVENT, KEY_VALUE, SPAN, STATUS, lenTag } from '../../../../otlp/fields.js';
import { forEachAttribute, keyValueAt, type SpanRef } from '../../../../otlp/trace-index.js';
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
const STATUS_CODE_KEYS = [enc('http.response.status_code'), enc('http.status_code')];
const STATUS_CODE_KEY_LENGTHS = STATUS_CODE_KEYS.map((k) => k.length);
const KEY_TAG = lenTag(KEY_VALUE.key);
const VALUE_TAG = lenTag(KEY_VALUE.value);
const EXCEPTION = enc('exception');
const EXCEPTION_TYPE = enc('exception.type');
const ERROR_TYPE = enc('error.type');

const kv = [-1, -1, -1, -1];

/** Whether a span failed (see above). */
export function isErrorSpan(b: Uint8Array, span: SpanRef): boolean {
  if (span.statusCode === STATUS_ERROR) return true;
  if (span.statusCode !== 0 || span.kind !== SERVER) return false;
  const code = httpStatusCode(b, span);
  return code >= 500 && code <= 599;
}

/**
 * The span's HTTP response status code, 0 when it has none: the value of its first attribute
 * keyed `http.response.status_code` or `http.status_code` that holds a code. Read for every server
 * span without a status, so its attributes are walked with one reader and no closure, and most
 * are passed over by a glance at their key's length (`otherKey`).
 */
export function httpStatusCode(b: Uint8Array, span: SpanRef): number {
  const r = new FieldReader(b, span.start, span.end);
  while (r.next()) {
    if (!r.isLen(SPAN.attributes)) {
      r.skip();
      continue;
    }
    const s = r.value();
    const e = r.valueEnd;
    if (otherKey(b, s, e)) continue;
    keyValueAt(b, s, e, kv);
    if (
      kv[2]! < 0 ||
      (!keyIs(b, kv[0]!, kv[1]!, STATUS_CODE_KEYS[0]!) &&
        !keyIs(b, kv[0]!, kv[1]!, STATUS_CODE_KEYS[1]!))
    ) {
      continue;
    }
    const code = intOrNumericString(b, kv[2]!, kv[3]!);
    if (code !== 0) return code;
  }
  return 0;
}

/**
 * Whether the KeyValue `b[start, end)` is, as SDKs write it, just a key (field 1, first) and a
 * value (field 2), and its key's length is neither status code key's: then it is not one.
 * Anything else (a long key, fields in another order, a repeated key) is read in full.
 */
function otherKey(b: Uint8Array, start: number, end: number): boolean {
  const keyLen = b[start + 1]!;
  if (b[start] !== KEY_TAG || keyLen >= 0x80 || STATUS_CODE_KEY_LENGTHS.includes(keyLen)) {
    return false;
  }
  const valueTag = start + 2 + keyLen;
  if (valueTag === end) return true;
  if (b[valueTag] !== VALUE_TAG) return false;
  const valueLen = b[valueTag + 1]!;
  return valueLen < 0x80 && valueTag + 2 + valueLen === end;
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
      if (len > 0 && len <= 3) {
        let n = 0;
        for (let i = vs; i < r.valueEnd; i++) {
          const d = b[i]! - 48;
          if (d < 0 || d > 9) {
            n = 0;
            break;
          }
          n = n * 10 + d;
        }
        out = n;
      }
    } else r.skip();
  }
  return out;
}

function keyIs(b: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (start < 0 || end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
  return true;
}
