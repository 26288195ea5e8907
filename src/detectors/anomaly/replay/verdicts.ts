import { ANOMALY_ATTRIBUTES } from '../attributes.js';
import { indexSpans, valueOfKey } from '../../../otlp/trace-index.js';
import { FieldReader } from '../../../otlp/field-reader.js';
import { ANY_VALUE, SPAN, lenTag, varintTag } from '../../../otlp/fields.js';

/**
 * Reads what a user gets from the processor: the `anomaly.severity_number` attribute of each span
 * of an encoded trace request (0 where a span has none).
 */
const KEY = new TextEncoder().encode(ANOMALY_ATTRIBUTES.severityNumber);
const ATTRIBUTE_TAG = lenTag(SPAN.attributes);
const INT_VALUE_TAG = varintTag(ANY_VALUE.int_value);

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
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag !== ATTRIBUTE_TAG) {
      r.skip();
      continue;
    }
    const severity = severityOf(b, r.value(), r.valueEnd);
    if (severity > 0) return severity;
  }
  return 0;
}

/** KeyValue: the int value when the key is `anomaly.severity_number`, else 0. */
function severityOf(b: Uint8Array, start: number, end: number): number {
  const value = valueOfKey(b, start, end, KEY);
  if (value === undefined) return 0;
  // AnyValue { int_value }, its one field
  const v = new FieldReader(b, value[0], value[1]);
  return v.next() && v.tag === INT_VALUE_TAG ? v.varint() : 0;
}
