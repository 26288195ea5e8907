import protobuf from 'protobufjs';
import type { Signal } from './signal.js';
import { otlpTypes } from './proto.js';
import { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './wire.js';

/**
 * Compact tables of the OTLP messages, built once from the protobufjs reflection of `proto/`, for
 * the wire walker (validation and counting) and the JSON codec. Indexed by field number so the
 * walker does one array load per field.
 */

export type FieldKind =
  'message' | 'string' | 'bytes' | 'varint' | 'i64' | 'i32' | 'double' | 'float' | 'bool' | 'enum';

export interface FieldSpec {
  readonly number: number;
  /** proto name, snake_case (`trace_id`). */
  readonly name: string;
  /** proto3 JSON name, lowerCamelCase (`traceId`). */
  readonly jsonName: string;
  readonly kind: FieldKind;
  /** The protobufjs scalar type (`fixed64`, `sint32`, ...) or message / enum full name. */
  readonly type: string;
  readonly wire: number;
  readonly repeated: boolean;
  /** Repeated scalars may also arrive packed (wire type 2). */
  readonly packable: boolean;
  readonly message: MessageSpec | undefined;
  readonly enumValues: Readonly<Record<string, number>> | undefined;
  /** For trace / span ids: the only lengths allowed (OTLP JSON writes these as hex). */
  readonly idBytes: number | undefined;
  readonly oneof: string | undefined;
  /** Member of a oneof or proto3 `optional`: a default value is still written (presence matters). */
  readonly hasPresence: boolean;
}

export interface MessageSpec {
  readonly name: string;
  readonly byNumber: readonly (FieldSpec | undefined)[];
  readonly fields: readonly FieldSpec[];
  /** JSON key (camelCase or snake_case) to field. */
  readonly byJsonKey: ReadonlyMap<string, FieldSpec>;
}

const SCALAR_KIND: Record<string, [FieldKind, number]> = {
  double: ['double', WIRE_I64],
  float: ['float', WIRE_I32],
  int32: ['varint', WIRE_VARINT],
  int64: ['varint', WIRE_VARINT],
  uint32: ['varint', WIRE_VARINT],
  uint64: ['varint', WIRE_VARINT],
  sint32: ['varint', WIRE_VARINT],
  sint64: ['varint', WIRE_VARINT],
  fixed32: ['i32', WIRE_I32],
  sfixed32: ['i32', WIRE_I32],
  fixed64: ['i64', WIRE_I64],
  sfixed64: ['i64', WIRE_I64],
  bool: ['bool', WIRE_VARINT],
  string: ['string', WIRE_LEN],
  bytes: ['bytes', WIRE_LEN],
};

/** Fields whose bytes are trace or span ids (hex in OTLP JSON, fixed length on the wire). */
const ID_FIELDS: Record<string, number> = {
  trace_id: 16,
  span_id: 8,
  parent_span_id: 8,
};

function toSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function build(type: protobuf.Type, cache: Map<string, MessageSpec>): MessageSpec {
  const existing = cache.get(type.fullName);
  if (existing) return existing;
  const byNumber: (FieldSpec | undefined)[] = [];
  const fields: FieldSpec[] = [];
  const byJsonKey = new Map<string, FieldSpec>();
  const spec: MessageSpec = { name: type.fullName.replace(/^\./, ''), byNumber, fields, byJsonKey };
  cache.set(type.fullName, spec);
  for (const field of type.fieldsArray) {
    field.resolve();
    const snake = toSnake(field.name);
    let kind: FieldKind;
    let wire: number;
    let message: MessageSpec | undefined;
    let enumValues: Record<string, number> | undefined;
    if (field.resolvedType instanceof protobuf.Type) {
      kind = 'message';
      wire = WIRE_LEN;
      message = build(field.resolvedType, cache);
    } else if (field.resolvedType instanceof protobuf.Enum) {
      kind = 'enum';
      wire = WIRE_VARINT;
      enumValues = field.resolvedType.values;
    } else {
      const s = SCALAR_KIND[field.type];
      if (!s) throw new Error(`unsupported field type ${field.type} in ${type.fullName}`);
      [kind, wire] = s;
    }
    const f: FieldSpec = {
      number: field.id,
      name: snake,
      jsonName: field.name,
      kind,
      type: field.type,
      wire,
      repeated: field.repeated,
      packable: field.repeated && kind !== 'message' && kind !== 'string' && kind !== 'bytes',
      message,
      enumValues,
      idBytes: kind === 'bytes' ? ID_FIELDS[snake] : undefined,
      oneof: field.partOf && !field.partOf.name.startsWith('_') ? field.partOf.name : undefined,
      hasPresence: field.partOf !== null && field.partOf !== undefined,
    };
    byNumber[field.id] = f;
    fields.push(f);
    byJsonKey.set(field.name, f);
    byJsonKey.set(snake, f);
  }
  return spec;
}

export interface RequestSpecs {
  readonly request: Readonly<Record<Signal, MessageSpec>>;
  /** The messages counted as items for each signal (spans, data points, log records). */
  readonly itemMessages: Readonly<Record<Signal, ReadonlySet<MessageSpec>>>;
  readonly byName: ReadonlyMap<string, MessageSpec>;
  /** The trace messages whose fields validation records in a `SpanLayout`. */
  readonly trace: { readonly span: MessageSpec; readonly resourceSpans: MessageSpec };
}

let cached: RequestSpecs | undefined;

export function requestSpecs(): RequestSpecs {
  if (cached) return cached;
  const t = otlpTypes();
  const cache = new Map<string, MessageSpec>();
  const request = {
    traces: build(t.traceRequest, cache),
    metrics: build(t.metricsRequest, cache),
    logs: build(t.logsRequest, cache),
  };
  const byName = new Map<string, MessageSpec>();
  for (const s of cache.values()) byName.set(s.name, s);
  const m = (name: string) => {
    const s = byName.get(`opentelemetry.proto.${name}`);
    if (!s) throw new Error(`missing message ${name}`);
    return s;
  };
  cached = {
    request,
    byName,
    trace: { span: m('trace.v1.Span'), resourceSpans: m('trace.v1.ResourceSpans') },
    itemMessages: {
      traces: new Set([m('trace.v1.Span')]),
      metrics: new Set([
        m('metrics.v1.NumberDataPoint'),
        m('metrics.v1.HistogramDataPoint'),
        m('metrics.v1.ExponentialHistogramDataPoint'),
        m('metrics.v1.SummaryDataPoint'),
      ]),
      logs: new Set([m('logs.v1.LogRecord')]),
    },
  };
  return cached;
}
