import { ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../../../otlp/wire.js';
import { ID_BYTES, type SpanTable } from './span-table.js';

/**
 * Encodes spans `[first, first + count)` of a table as an OTLP `ExportTraceServiceRequest`, one
 * ResourceSpans per run of spans of one resource (`service.name`, `k8s.pod.name`), as the
 * services' SDKs would have sent them, the spans in table order (verdicts are read back by
 * position). For inputs that are not OTLP already (the Nezha/TraStrainer CSV).
 */
export function encodeTableRequest(t: SpanTable, first: number, count: number): Uint8Array {
  const byResource: [number, number[]][] = [];
  for (let i = first; i < first + count; i++) {
    const r = t.resource[i]!;
    const run = byResource[byResource.length - 1];
    if (run && run[0] === r) run[1].push(i);
    else byResource.push([r, [i]]);
  }
  const w = new ProtoWriter(256 + count * 96);
  for (const [r, spans] of byResource) {
    const res = t.resources[r]!;
    w.fork(); // ResourceSpans (1)
    w.fork(); // Resource (1)
    attribute(w, 'service.name', res.service);
    if (res.pod !== res.service) attribute(w, 'k8s.pod.name', res.pod);
    w.join(1);
    w.fork(); // ScopeSpans (2)
    w.fork().tag(1, WIRE_LEN).string('hourglass-replay').join(1);
    for (const i of spans) span(w, t, i);
    w.join(2);
    w.join(1);
  }
  return w.finish();
}

function attribute(w: ProtoWriter, key: string, value: string): void {
  w.fork().tag(1, WIRE_LEN).string(key).fork().tag(1, WIRE_LEN).string(value).join(2).join(1);
}

function span(w: ProtoWriter, t: SpanTable, i: number): void {
  const at = i * ID_BYTES;
  w.fork();
  w.tag(1, WIRE_LEN).bytes(t.ids.subarray(at, at + 16));
  w.tag(2, WIRE_LEN).bytes(t.ids.subarray(at + 16, at + 24));
  if (t.parentKey(i) !== 0) w.tag(4, WIRE_LEN).bytes(t.ids.subarray(at + 24, at + 32));
  w.tag(5, WIRE_LEN).string(t.names[t.name[i]!]!);
  if (t.kind[i] !== 0) w.tag(6, WIRE_VARINT).varint(t.kind[i]!);
  w.tag(7, WIRE_I64).fixed64Big(t.startNs[i]!);
  w.tag(8, WIRE_I64).fixed64Big(t.endNs[i]!);
  w.join(2);
}
