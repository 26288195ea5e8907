import { ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../../../otlp/wire.js';
import type { AnomalyRecord } from './anomaly-record.js';
import { severityLabel, severityName } from './severity.js';

/**
 * The attributes DESIGN.md promises on an anomalous span, encoded as `Span.attributes` entries
 * (field 9, KeyValue{key 1, value 2: AnyValue}), ready to be appended to the span's bytes with
 * `rewriteItems`: protobuf merges the repeated field, so the span's own attributes are kept.
 */
const SPAN_ATTRIBUTES = 9;
const STRING_VALUE = 1;
const INT_VALUE = 3;
const DOUBLE_VALUE = 4;

export function encodeAnomalyAttributes(a: AnomalyRecord): Uint8Array {
  const w = new ProtoWriter(512);
  const str = (key: string, v: string) => {
    begin(w, key);
    w.tag(STRING_VALUE, WIRE_LEN).string(v);
    end(w);
  };
  const int = (key: string, v: number) => {
    begin(w, key);
    w.tag(INT_VALUE, WIRE_VARINT).varint(Math.round(v));
    end(w);
  };
  const double = (key: string, v: number) => {
    begin(w, key);
    w.tag(DOUBLE_VALUE, WIRE_I64).double(v);
    end(w);
  };
  str('anomaly.severity', severityName(a.severity));
  int('anomaly.severity_number', a.severity);
  str('anomaly.severity_label', severityLabel(a.severity));
  str('anomaly.detector', a.detector);
  double('anomaly.score', a.score);
  double('anomaly.ratio', a.ratio);
  double('anomaly.baseline.mean_ms', a.meanMs);
  double('anomaly.baseline.stddev_ms', a.stddevMs);
  double('anomaly.baseline.p99_ms', a.p99Ms);
  int('anomaly.baseline.samples', a.samples);
  str('anomaly.baseline.scope', a.scope);
  str('anomaly.baseline.window', a.window);
  return w.finish();
}

function begin(w: ProtoWriter, key: string): void {
  w.fork(); // KeyValue
  w.tag(1, WIRE_LEN).string(key);
  w.fork(); // AnyValue
}

function end(w: ProtoWriter): void {
  w.join(2);
  w.join(SPAN_ATTRIBUTES);
}
