import { requestSpecs } from './spec.js';
import { WIRE_LEN, WIRE_VARINT } from './wire.js';

/**
 * Field numbers of the OTLP messages the hand-written walkers read (with `FieldReader`: the trace
 * index, the span walk and decode, the layout validation records) and the few writers write (the
 * summary spans), by their proto names. Read from `proto/`
 * through `spec.ts` once, at load: a name that is not in the definitions fails at start-up, and
 * no walker spells a field number itself.
 */
function numbers<const K extends string>(
  message: string,
  names: readonly K[],
): Readonly<Record<K, number>> {
  const spec = requestSpecs().byName.get(`opentelemetry.proto.${message}`);
  if (!spec) throw new Error(`proto/ has no message opentelemetry.proto.${message}`);
  const out = {} as Record<K, number>;
  for (const name of names) {
    const field = spec.fields.find((f) => f.name === name);
    if (!field) throw new Error(`opentelemetry.proto.${message} has no field ${name}`);
    out[name] = field.number;
  }
  return Object.freeze(out);
}

export const EXPORT_TRACE_REQUEST = numbers('collector.trace.v1.ExportTraceServiceRequest', [
  'resource_spans',
]);
export const RESOURCE_SPANS = numbers('trace.v1.ResourceSpans', ['resource', 'scope_spans']);
export const SCOPE_SPANS = numbers('trace.v1.ScopeSpans', ['scope', 'spans']);
export const SCOPE = numbers('common.v1.InstrumentationScope', ['name', 'version']);
export const SPAN = numbers('trace.v1.Span', [
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'kind',
  'start_time_unix_nano',
  'end_time_unix_nano',
  'attributes',
  'events',
  'status',
]);
export const EVENT = numbers('trace.v1.Span.Event', ['name', 'attributes']);
export const STATUS = numbers('trace.v1.Status', ['message', 'code']);
export const RESOURCE = numbers('resource.v1.Resource', ['attributes']);
export const KEY_VALUE = numbers('common.v1.KeyValue', ['key', 'value']);
export const ANY_VALUE = numbers('common.v1.AnyValue', [
  'string_value',
  'bool_value',
  'int_value',
  'double_value',
  'array_value',
  'kvlist_value',
  'bytes_value',
]);

export const ARRAY_VALUE = numbers('common.v1.ArrayValue', ['values']);
export const KEY_VALUE_LIST = numbers('common.v1.KeyValueList', ['values']);

/**
 * The three levels every export request has, request -> resource entry -> scope entry -> item
 * (spans, metrics, log records), by field number: the same for the three signals (checked here,
 * at load), so that splitting and rewriting a request need not know its signal.
 */
function requestLevels(): Readonly<{ entry: number; scope: number; item: number }> {
  const levels = [
    [EXPORT_TRACE_REQUEST.resource_spans, RESOURCE_SPANS.scope_spans, SCOPE_SPANS.spans],
    [
      numbers('collector.metrics.v1.ExportMetricsServiceRequest', ['resource_metrics'])
        .resource_metrics,
      numbers('metrics.v1.ResourceMetrics', ['scope_metrics']).scope_metrics,
      numbers('metrics.v1.ScopeMetrics', ['metrics']).metrics,
    ],
    [
      numbers('collector.logs.v1.ExportLogsServiceRequest', ['resource_logs']).resource_logs,
      numbers('logs.v1.ResourceLogs', ['scope_logs']).scope_logs,
      numbers('logs.v1.ScopeLogs', ['log_records']).log_records,
    ],
  ];
  const [entry, scope, item] = levels[0]!;
  for (const l of levels) {
    if (l[0] !== entry || l[1] !== scope || l[2] !== item)
      throw new Error('proto/: the export requests of the three signals differ in their levels');
  }
  return Object.freeze({ entry: entry!, scope: scope!, item: item! });
}

export const REQUEST_LEVELS = requestLevels();

/** The tag (field number and wire type) of a length-delimited field: what most walks look for. */
export function lenTag(field: number): number {
  return (field << 3) | WIRE_LEN;
}

export function varintTag(field: number): number {
  return (field << 3) | WIRE_VARINT;
}
