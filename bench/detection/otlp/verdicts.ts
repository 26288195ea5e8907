import { ANOMALY_ATTRIBUTES } from '../../../src/detectors/anomaly/attributes.js';
import { indexSpans, valueOfKey } from '../../../src/otlp/trace-index.js';
import {
  WIRE_LEN,
  readVarint32,
  readVarintNumber,
  skipField,
  type Cursor,
} from '../../../src/otlp/wire.js';

/**
 * Reads what a user gets from the processor: the `anomaly.severity_number` attribute of each span
 * of an encoded trace request, by span id. Spans without it are not reported.
 */
const KEY = new TextEncoder().encode(ANOMALY_ATTRIBUTES.severityNumber);
const ATTRIBUTES = 9;

export function readSeverities(
  bytes: Uint8Array,
  found: (spanId: number, severity: number) => void,
): void {
  for (const span of indexSpans(bytes).spans) {
    const severity = attributeSeverity(bytes, span.start, span.end);
    if (severity > 0) found(readId(bytes, span.spanIdAt), severity);
  }
}

/** The `anomaly.severity_number` among the span's attributes (its fields in [start, end)), or 0. */
function attributeSeverity(b: Uint8Array, start: number, end: number): number {
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

function readId(b: Uint8Array, at: number): number {
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 4; k++) hi = hi * 256 + b[at + k]!;
  for (let k = 4; k < 8; k++) lo = lo * 256 + b[at + k]!;
  return hi * 4294967296 + lo;
}
