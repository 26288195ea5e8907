import { ProtoWriter, WIRE_LEN } from '../../../otlp/wire.js';
import { ANOMALY_ATTRIBUTES } from '../attributes.js';

const SPAN_ATTRIBUTES = 9;
const STRING_VALUE = 1;

/** `attributes` (encoded `Span.attributes` entries, tagger.ts) followed by `anomaly.incident_id`. */
export function incidentAttribute(attributes: Uint8Array, incidentId: string): Uint8Array {
  const w = new ProtoWriter(96);
  w.fork().tag(1, WIRE_LEN).string(ANOMALY_ATTRIBUTES.incidentId).fork();
  w.tag(STRING_VALUE, WIRE_LEN).string(incidentId);
  const entry = w.join(2).join(SPAN_ATTRIBUTES).finish();
  const out = new Uint8Array(attributes.length + entry.length);
  out.set(attributes, 0);
  out.set(entry, attributes.length);
  return out;
}
