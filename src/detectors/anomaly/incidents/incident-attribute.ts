import { ProtoWriter, WIRE_LEN } from '../../../otlp/wire.js';
import { ANOMALY_ATTRIBUTES } from '../attributes.js';

const SPAN_ATTRIBUTES = 9;
const STRING_VALUE = 1;

/**
 * The encoded `Span.attributes` entry `anomaly.incident_id`, to follow a tagged span's other
 * attributes (tagger.ts). The same for every span of an incident: a request's spans share it.
 */
export function incidentAttribute(incidentId: string): Uint8Array {
  const w = new ProtoWriter(96);
  w.fork().tag(1, WIRE_LEN).string(ANOMALY_ATTRIBUTES.incidentId).fork();
  w.tag(STRING_VALUE, WIRE_LEN).string(incidentId);
  return w.join(2).join(SPAN_ATTRIBUTES).finish();
}
