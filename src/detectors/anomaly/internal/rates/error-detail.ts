import { decodeBounded } from '../../../../otlp/bounded-text.js';
import { forEachAttribute, keyValueAt, type SpanRef } from '../../../../otlp/trace-index.js';
import {
  WIRE_LEN,
  WIRE_VARINT,
  readVarint32,
  readVarintNumber,
  skipField,
  type Cursor,
} from '../../../../otlp/wire.js';

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
const EXCEPTION = enc('exception');
const EXCEPTION_TYPE = enc('exception.type');
const ERROR_TYPE = enc('error.type');
// Span fields: attributes 9, events 11, status 15. Event: name 2, attributes 3. Status: message 2.
const SPAN_EVENTS = 11;
const SPAN_STATUS = 15;

const kv = [-1, -1, -1, -1];

/** Whether a span failed (see above). */
export function isErrorSpan(b: Uint8Array, span: SpanRef): boolean {
  if (span.statusCode === STATUS_ERROR) return true;
  if (span.statusCode !== 0 || span.kind !== SERVER) return false;
  const code = httpStatusCode(b, span);
  return code >= 500 && code <= 599;
}

/** The span's HTTP response status code, 0 when it has none. */
export function httpStatusCode(b: Uint8Array, span: SpanRef): number {
  let code = 0;
  forEachAttribute(b, span.start, span.end, (s, e) => {
    if (code !== 0) return;
    keyValueAt(b, s, e, kv);
    if (
      kv[2]! < 0 ||
      (!keyIs(b, kv[0]!, kv[1]!, STATUS_CODE_KEYS[0]!) &&
        !keyIs(b, kv[0]!, kv[1]!, STATUS_CODE_KEYS[1]!))
    ) {
      return;
    }
    code = intOrNumericString(b, kv[2]!, kv[3]!);
  });
  return code;
}

/** What failed, bounded (MAX_NAME_BYTES); undefined when the span says nothing of it. */
export function errorTypeOf(b: Uint8Array, span: SpanRef): string | undefined {
  let exceptionType: string | undefined;
  let message: string | undefined;
  const c: Cursor = { pos: span.start };
  const end = span.end;
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    const field = tag >>> 3;
    if ((tag & 7) !== WIRE_LEN || (field !== SPAN_EVENTS && field !== SPAN_STATUS)) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const vs = c.pos;
    c.pos += len;
    if (field === SPAN_EVENTS && exceptionType === undefined) {
      exceptionType = exceptionTypeOf(b, vs, vs + len);
    } else if (field === SPAN_STATUS) {
      message = stringField(b, vs, vs + len, 2) ?? message;
    }
  }
  if (exceptionType !== undefined) return exceptionType;
  if (message !== undefined) return message;
  let errorType: string | undefined;
  forEachAttribute(b, span.start, span.end, (s, e) => {
    keyValueAt(b, s, e, kv);
    if (errorType === undefined && kv[2]! >= 0 && keyIs(b, kv[0]!, kv[1]!, ERROR_TYPE)) {
      errorType = stringField(b, kv[2]!, kv[3]!, 1);
    }
  });
  if (errorType !== undefined) return errorType;
  const code = httpStatusCode(b, span);
  return code > 0 ? `HTTP ${code}` : undefined;
}

/** An Event {name 2, attributes 3}: the `exception.type` of an `exception` event. */
function exceptionTypeOf(b: Uint8Array, start: number, end: number): string | undefined {
  const c: Cursor = { pos: start };
  let isException = false;
  let type: string | undefined;
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if ((tag & 7) !== WIRE_LEN) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const vs = c.pos;
    c.pos += len;
    const field = tag >>> 3;
    if (field === 2) isException = keyIs(b, vs, vs + len, EXCEPTION);
    else if (field === 3 && type === undefined) {
      keyValueAt(b, vs, vs + len, kv);
      if (kv[2]! >= 0 && keyIs(b, kv[0]!, kv[1]!, EXCEPTION_TYPE)) {
        type = stringField(b, kv[2]!, kv[3]!, 1);
      }
    }
  }
  return isException ? type : undefined;
}

/** The string field `field` of a message in `b[start, end)`, bounded; undefined when absent or empty. */
function stringField(b: Uint8Array, start: number, end: number, field: number): string | undefined {
  const c: Cursor = { pos: start };
  let out: string | undefined;
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag !== ((field << 3) | WIRE_LEN)) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    if (len > 0) out = decodeBounded(b, c.pos, c.pos + len);
    c.pos += len;
  }
  return out;
}

/** AnyValue {int 3} or {string 1} holding digits, as a number; 0 otherwise. */
function intOrNumericString(b: Uint8Array, start: number, end: number): number {
  const c: Cursor = { pos: start };
  let out = 0;
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag === ((3 << 3) | WIRE_VARINT)) {
      out = readVarintNumber(b, c, end);
    } else if (tag === ((1 << 3) | WIRE_LEN)) {
      const len = readVarint32(b, c, end);
      if (len > 0 && len <= 3) {
        let n = 0;
        for (let i = c.pos; i < c.pos + len; i++) {
          const d = b[i]! - 48;
          if (d < 0 || d > 9) {
            n = 0;
            break;
          }
          n = n * 10 + d;
        }
        out = n;
      }
      c.pos += len;
    } else {
      skipField(b, c, tag & 7, end);
    }
  }
  return out;
}

function keyIs(b: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (start < 0 || end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
  return true;
}
