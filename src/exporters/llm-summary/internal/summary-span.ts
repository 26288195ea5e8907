import { randomBytes } from 'node:crypto';
import {
  ANY_VALUE,
  EXPORT_TRACE_REQUEST,
  KEY_VALUE,
  RESOURCE,
  RESOURCE_SPANS,
  SCOPE,
  SCOPE_SPANS,
  SPAN,
} from '../../../otlp/fields.js';
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
  for (const [k, v] of Object.entries(resource)) keyValue(w, RESOURCE.attributes, k, v);
  w.join(RESOURCE_SPANS.resource);
  w.fork(); // ScopeSpans
  w.fork().tag(SCOPE.name, WIRE_LEN).string(SCOPE_NAME);
  w.tag(SCOPE.version, WIRE_LEN).string(scopeVersion).join(SCOPE_SPANS.scope);
  for (const s of spans) {
    w.fork();
    w.tag(SPAN.trace_id, WIRE_LEN).bytes(Buffer.from(s.traceId, 'hex'));
    w.tag(SPAN.span_id, WIRE_LEN).bytes(Buffer.from(s.spanId, 'hex'));
    w.tag(SPAN.parent_span_id, WIRE_LEN).bytes(Buffer.from(s.parentSpanId, 'hex'));
    w.tag(SPAN.name, WIRE_LEN).string(SUMMARY_SPAN_NAME);
    w.tag(SPAN.kind, WIRE_VARINT).varint(SPAN_KIND_INTERNAL);
    w.tag(SPAN.start_time_unix_nano, WIRE_I64).fixed64Big(nanos(s.startMs));
    w.tag(SPAN.end_time_unix_nano, WIRE_I64).fixed64Big(nanos(Math.max(s.startMs, s.endMs)));
    for (const [k, v] of s.attributes) keyValue(w, SPAN.attributes, k, v);
    w.join(SCOPE_SPANS.spans);
  }
  w.join(RESOURCE_SPANS.scope_spans);
  w.join(EXPORT_TRACE_REQUEST.resource_spans);
  return w.finish();
}

function keyValue(w: ProtoWriter, field: number, key: string, v: string | number | boolean): void {
  w.fork().tag(KEY_VALUE.key, WIRE_LEN).string(key).fork();
  if (typeof v === 'string') w.tag(ANY_VALUE.string_value, WIRE_LEN).string(v);
  else if (typeof v === 'boolean') w.tag(ANY_VALUE.bool_value, WIRE_VARINT).varint(v ? 1 : 0);
  else if (Number.isInteger(v)) w.tag(ANY_VALUE.int_value, WIRE_VARINT).varint(v);
  else w.tag(ANY_VALUE.double_value, WIRE_I64).double(v);
  w.join(KEY_VALUE.value).join(field);
}

function nanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}
