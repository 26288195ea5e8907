import { ANOMALY_ATTRIBUTES } from '../attributes.js';
import { indexSpans, valueOfKey } from '../../../otlp/trace-index.js';
import {
  WIRE_LEN,
  readVarint32,
  readVarintNumber,
  skipField,
  type Cursor,
} from '../../../otlp/wire.js';

/**
 * Reads what a user gets from the processor: the `anomaly.severity_number` attribute of each span
 * of an encoded trace request (0 where a span has none).
 */
const KEY = new TextEncoder().encode(ANOMALY_ATTRIBUTES.severityNumber);
const ATTRIBUTES = 9;

/** The severity of every span of a request, in request order (the processor keeps the order). */
export function severitiesOf(bytes: Uint8Array): Uint8Array {
  const spans = indexSpans(bytes).spans;
  const out = new Uint8Array(spans.length);
  for (let i = 0; i < spans.length; i++)
    out[i] = spanSeverity(bytes, spans[i]!.start, spans[i]!.end);
  return out;
}

/** The `anomaly.severity_number` among a span's attributes (its fields in [start, end)), or 0. */
export function spanSeverity(b: Uint8Array, start: number, end: number): number {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag !== ((ATTRIBUTES << 3) | WIRE_LEN)) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const severity = severityOf(b, c.pos, c.pos + len);
    if (severity > 0) return severity;
    c.pos += len;
  }
  return 0;
}

/** KeyValue: the int value when the key is `anomaly.severity_number`, else 0. */
function severityOf(b: Uint8Array, start: number, end: number): number {
  const value = valueOfKey(b, start, end, KEY);
  if (value === undefined) return 0;
  // AnyValue { int_value (3) }
  const v: Cursor = { pos: value[0] };
  return readVarint32(b, v, value[1]) === 3 << 3 ? readVarintNumber(b, v, value[1]) : 0;
}
