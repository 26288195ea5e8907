import { randomBytes } from 'node:crypto';
import { ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../../../otlp/wire.js';

/** The span an anomaly summary travels in, to the trace exporters next to the exporter. */
export interface SummarySpan {
  readonly traceId: string;
  /** The anomalous span it hangs under. */
  readonly parentSpanId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: readonly (readonly [string, string | number | boolean])[];
}

export const SUMMARY_SPAN_NAME = 'anomaly.summary';
export const SCOPE_NAME = 'hourglass/llm_summary';

const SPAN_KIND_INTERNAL = 1;

/** A fresh, random, non-zero 8-byte span id in hex. */
export function newSpanId(): string {
  for (;;) {
    const id = randomBytes(8);
    if (id.some((b) => b !== 0)) return id.toString('hex');
  }
}

/**
 * One `ExportTraceServiceRequest` holding the summary spans under the sidecar's own resource
 * (`service.name: hourglass`), each with a fresh span id, its anomaly's trace id and the
 * anomalous span as parent, so Jaeger shows it inside that trace.
 */
export function encodeSummarySpans(
  spans: readonly (SummarySpan & { readonly spanId: string })[],
  resource: Readonly<Record<string, string>>,
  scopeVersion: string,
): Uint8Array {
  const w = new ProtoWriter(1024);
  w.fork(); // ResourceSpans
  w.fork(); // Resource
  for (const [k, v] of Object.entries(resource)) keyValue(w, 1, k, v);
  w.join(1);
  w.fork(); // ScopeSpans
  w.fork().tag(1, WIRE_LEN).string(SCOPE_NAME).tag(2, WIRE_LEN).string(scopeVersion).join(1);
  for (const s of spans) {
    w.fork();
    w.tag(1, WIRE_LEN).bytes(Buffer.from(s.traceId, 'hex'));
    w.tag(2, WIRE_LEN).bytes(Buffer.from(s.spanId, 'hex'));
    w.tag(4, WIRE_LEN).bytes(Buffer.from(s.parentSpanId, 'hex'));
    w.tag(5, WIRE_LEN).string(SUMMARY_SPAN_NAME);
    w.tag(6, WIRE_VARINT).varint(SPAN_KIND_INTERNAL);
    w.tag(7, WIRE_I64).fixed64Big(nanos(s.startMs));
    w.tag(8, WIRE_I64).fixed64Big(nanos(Math.max(s.startMs, s.endMs)));
    for (const [k, v] of s.attributes) keyValue(w, 9, k, v);
    w.join(2);
  }
  w.join(2);
  w.join(1);
  return w.finish();
}

function keyValue(w: ProtoWriter, field: number, key: string, v: string | number | boolean): void {
  w.fork().tag(1, WIRE_LEN).string(key).fork();
  if (typeof v === 'string') w.tag(1, WIRE_LEN).string(v);
  else if (typeof v === 'boolean') w.tag(2, WIRE_VARINT).varint(v ? 1 : 0);
  else if (Number.isInteger(v)) w.tag(3, WIRE_VARINT).varint(v);
  else w.tag(4, WIRE_I64).double(v);
  w.join(2).join(field);
}

function nanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}
