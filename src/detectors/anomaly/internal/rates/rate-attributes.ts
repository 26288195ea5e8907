import { ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../../../../otlp/wire.js';
import { ANOMALY_ATTRIBUTES as A } from '../../attributes.js';
import type { AnomalyRecord } from '../anomaly-record.js';
import { SEVERITY_LABELS, SEVERITY_NAMES } from '../severity.js';

/**
 * The attributes of a span tagged by the error or traffic detector, as `Span.attributes` entries
 * to append (see tagger.ts): the verdict (severity, its number and label, detector, reason), and
 * the detector's own numbers (`anomaly.errors.*` or `anomaly.traffic.*`). `own` alone is what a
 * span judged more severe by another detector keeps of this one.
 */
export function rateAttributes(a: AnomalyRecord, verdict: boolean): Uint8Array {
  const w = new ProtoWriter(256);
  if (verdict) {
    str(w, A.severity, SEVERITY_NAMES[a.severity - 1]!);
    int(w, A.severityNumber, a.severity);
    str(w, A.severityLabel, SEVERITY_LABELS[a.severity - 1]!);
    str(w, A.detector, a.detector);
    str(w, A.reason, a.reason);
    dbl(w, A.score, a.score);
    str(w, A.scope, a.scope);
    str(w, A.window, a.window);
  }
  if (a.detector === 'errors') {
    dbl(w, A.errorsRate, a.errorRate ?? Number.NaN);
    dbl(w, A.errorsBaselineRate, a.baselineErrorRate ?? Number.NaN);
    if (a.errorType !== undefined) str(w, A.errorsType, a.errorType);
  } else {
    dbl(w, A.trafficRate, a.observedRate ?? Number.NaN);
    dbl(w, A.trafficBaselineRate, a.expectedRate ?? Number.NaN);
    dbl(w, A.trafficRatio, a.ratio);
  }
  return w.finish();
}

// KeyValue{key 1, value 2: AnyValue{string 1 | int 3 | double 4}} as Span field 9.
function kv(w: ProtoWriter, key: string, value: () => void): void {
  w.fork().tag(1, WIRE_LEN).string(key).fork();
  value();
  w.join(2).join(9);
}
const str = (w: ProtoWriter, key: string, v: string) =>
  kv(w, key, () => w.tag(1, WIRE_LEN).string(v));
const int = (w: ProtoWriter, key: string, v: number) =>
  kv(w, key, () => w.tag(3, WIRE_VARINT).varint(v));
const dbl = (w: ProtoWriter, key: string, v: number) =>
  kv(w, key, () => w.tag(4, WIRE_I64).double(v));
