import { EXPORT_TRACE_REQUEST, RESOURCE_SPANS, SCOPE_SPANS, SPAN, lenTag } from './fields.js';
import {
  KEY_TAG,
  PREFIX_FIRST,
  findServiceName,
  isAnomalyKeyValue,
  mayBeStatusCode,
  readStatusCode,
} from './span-attributes.js';
import {
  L_ANOMALY,
  L_CODE_ATTR,
  L_CODE_ATTR_END,
  L_END,
  L_END_TIME,
  L_KIND,
  L_NAME,
  L_NAME_END,
  L_PARENT_SPAN_ID,
  L_RESOURCE,
  L_SPAN_ID,
  L_START,
  L_START_TIME,
  L_STATUS,
  L_STATUS_END,
  L_STRIDE,
  L_TRACE_ID,
  type SpanLayout,
} from './span-layout.js';
import { internedString } from './string-cache.js';
import { FieldReader } from './field-reader.js';
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, readVarint32, skipField, type Cursor } from './wire.js';

// What used to live here, for the modules that import it from here.
export { hexAt } from './hex.js';
export { internedString } from './string-cache.js';
export * from './span-layout.js';
export {
  forEachAttribute,
  isAnomalyKeyValue,
  keyValueAt,
  mayBeStatusCode,
  valueOfKey,
} from './span-attributes.js';

const RESOURCE_SPANS_TAG = lenTag(EXPORT_TRACE_REQUEST.resource_spans);
const RESOURCE_TAG = lenTag(RESOURCE_SPANS.resource);
const SCOPE_SPANS_TAG = lenTag(RESOURCE_SPANS.scope_spans);
const SPAN_TAG = lenTag(SCOPE_SPANS.spans);
const F_TRACE_ID = SPAN.trace_id;
const F_SPAN_ID = SPAN.span_id;
const F_PARENT_SPAN_ID = SPAN.parent_span_id;
const F_NAME = SPAN.name;
const F_KIND = SPAN.kind;
const F_START_TIME = SPAN.start_time_unix_nano;
const F_END_TIME = SPAN.end_time_unix_nano;
const F_ATTRIBUTES = SPAN.attributes;
const F_STATUS = SPAN.status;

/**
 * A fast scan of a validated trace export request that finds what detection needs about each
 * span without decoding the rest: its service, name, kind, times, ids and status, and where its
 * bytes are (to tag it in place with `rewriteItems`). Strings are decoded for the few fields read,
 * and bounded: a name longer than MAX_NAME_BYTES (bounded-text.ts) is cut and marked, and only
 * that much of it is decoded. Ids stay as offsets into the buffer until asked for.
 */
export interface SpanRef {
  /** Offset and end of the Span message value in the request bytes. */
  readonly start: number;
  readonly end: number;
  /** Index into `TraceIndex.resources`. */
  readonly resource: number;
  readonly name: string;
  /** SpanKind enum value (0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer). */
  readonly kind: number;
  /** Start time in ms since the epoch (fractional). */
  readonly startMs: number;
  /** Duration in ms (fractional, exact to the nanosecond up to ~104 days). */
  readonly durationMs: number;
  /** Offsets of the 16-byte trace id, the 8-byte span id and parent span id (-1: root span). */
  readonly traceIdAt: number;
  readonly spanIdAt: number;
  readonly parentSpanIdAt: number;
  /** Status code (0 unset, 1 ok, 2 error). */
  readonly statusCode: number;
  /** Whether one of its attributes has a key starting with `anomaly.` (it was tagged before). */
  readonly anomalyAttributes: boolean;
  /**
   * Offset and end of its first attribute (KeyValue) that may be an HTTP response status code
   * (`mayBeStatusCode`); -1 when none may be.
   */
  readonly codeAttrAt: number;
  readonly codeAttrEnd: number;
}

export interface ResourceRef {
  /** The `service.name` resource attribute, or `unknown_service` as the SDKs default it. */
  readonly serviceName: string;
}

export interface TraceIndex {
  readonly bytes: Uint8Array;
  readonly resources: readonly ResourceRef[];
  readonly spans: readonly SpanRef[];
}

export function indexSpans(bytes: Uint8Array): TraceIndex {
  const resources: ResourceRef[] = [];
  const spans: SpanRef[] = [];
  const r = new FieldReader(bytes);
  while (r.next()) {
    if (r.tag === RESOURCE_SPANS_TAG)
      scanResourceSpans(bytes, r.value(), r.valueEnd, resources, spans);
    else r.skip();
  }
  return { bytes, resources, spans };
}

function scanResourceSpans(
  b: Uint8Array,
  start: number,
  end: number,
  resources: ResourceRef[],
  spans: SpanRef[],
): void {
  const resourceIndex = resources.length;
  const resource: { serviceName: string } = { serviceName: 'unknown_service' };
  resources.push(resource);
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === RESOURCE_TAG) {
      const name = findServiceName(b, r.value(), r.valueEnd);
      if (name !== undefined) resource.serviceName = name;
    } else if (r.tag === SCOPE_SPANS_TAG) {
      scanScopeSpans(b, r.value(), r.valueEnd, resourceIndex, spans);
    } else r.skip();
  }
  // A ResourceSpans without spans is not kept (a 20 MiB body holds ten million empty ones).
  if (spans.length === 0 || spans[spans.length - 1]!.resource !== resourceIndex) resources.pop();
}

function scanScopeSpans(
  b: Uint8Array,
  start: number,
  end: number,
  resource: number,
  spans: SpanRef[],
): void {
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === SPAN_TAG) spans.push(scanSpan(b, r.value(), r.valueEnd, resource));
    else r.skip();
  }
}

// The span scan is the per-span path, written out by hand (named fields, no FieldReader): with
// a reader per span, `indexSpans` took 1.34x to 1.55x this loop's CPU time (`npm run
// bench:index:ab`; docs/performance.md), so this one loop stays as it was.
function scanSpan(b: Uint8Array, start: number, end: number, resource: number): SpanRef {
  let name = '';
  let kind = 0;
  let startAt = -1;
  let endAt = -1;
  let traceIdAt = -1;
  let spanIdAt = -1;
  let parentSpanIdAt = -1;
  let statusCode = 0;
  let anomaly = false;
  let codeAttrAt = -1;
  let codeAttrEnd = -1;
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === WIRE_LEN) {
      const len = readVarint32(b, c, end);
      const vs = c.pos;
      c.pos = vs + len;
      if (field === F_ATTRIBUTES) {
        // Most keys are told apart by their first byte (KeyValue.key is written first), inline.
        if (!anomaly && (b[vs] !== KEY_TAG || b[vs + 2] === PREFIX_FIRST)) {
          anomaly = isAnomalyKeyValue(b, vs, vs + len);
        }
        if (codeAttrAt < 0 && mayBeStatusCode(b, vs, vs + len)) {
          codeAttrAt = vs;
          codeAttrEnd = vs + len;
        }
      } else if (field === F_NAME) name = internedString(b, vs, vs + len);
      else if (field === F_TRACE_ID) traceIdAt = vs;
      else if (field === F_SPAN_ID) spanIdAt = vs;
      else if (field === F_PARENT_SPAN_ID && len === 8) parentSpanIdAt = vs;
      else if (field === F_STATUS) statusCode = readStatusCode(b, vs, vs + len);
    } else if (wire === WIRE_I64 && (field === F_START_TIME || field === F_END_TIME)) {
      if (field === F_START_TIME) startAt = c.pos;
      else endAt = c.pos;
      c.pos += 8;
    } else if (wire === WIRE_VARINT && field === F_KIND) {
      kind = readVarint32(b, c, end);
    } else {
      skipField(b, c, wire, end);
    }
  }
  return spanRef(
    b,
    start,
    end,
    resource,
    name,
    kind,
    startAt,
    endAt,
    traceIdAt,
    spanIdAt,
    parentSpanIdAt,
    statusCode,
    anomaly,
    codeAttrAt,
    codeAttrEnd,
  );
}

function spanRef(
  b: Uint8Array,
  start: number,
  end: number,
  resource: number,
  name: string,
  kind: number,
  startAt: number,
  endAt: number,
  traceIdAt: number,
  spanIdAt: number,
  parentSpanIdAt: number,
  statusCode: number,
  anomalyAttributes: boolean,
  codeAttrAt: number,
  codeAttrEnd: number,
): SpanRef {
  const startMs = startAt < 0 ? 0 : nanosToMs(b, startAt);
  const durationMs = startAt < 0 || endAt < 0 ? 0 : diffNanosToMs(b, endAt, startAt);
  return {
    start,
    end,
    resource,
    name,
    kind,
    startMs,
    durationMs,
    traceIdAt,
    spanIdAt,
    parentSpanIdAt,
    statusCode,
    anomalyAttributes,
    codeAttrAt,
    codeAttrEnd,
  };
}

/** The `TraceIndex` of `layout.bytes`, from the offsets validation recorded: no scan. */
export function indexFromLayout(layout: SpanLayout): TraceIndex {
  const b = layout.bytes;
  const res = layout.resources;
  const resources: ResourceRef[] = [];
  for (let i = 0; i < res.length; i += 2) {
    const name = res[i]! < 0 ? undefined : findServiceName(b, res[i]!, res[i + 1]!);
    resources.push({ serviceName: name ?? 'unknown_service' });
  }
  const d = layout.data;
  const spans: SpanRef[] = new Array<SpanRef>(layout.count);
  const c: Cursor = { pos: 0 };
  for (let i = 0, at = 0; i < layout.count; i++, at += L_STRIDE) {
    const end = d[at + L_END]!;
    const nameAt = d[at + L_NAME]!;
    const kindAt = d[at + L_KIND]!;
    let kind = 0;
    if (kindAt >= 0) {
      c.pos = kindAt;
      kind = readVarint32(b, c, end);
    }
    const statusAt = d[at + L_STATUS]!;
    spans[i] = spanRef(
      b,
      d[at + L_START]!,
      end,
      Math.max(0, d[at + L_RESOURCE]!),
      nameAt < 0 ? '' : internedString(b, nameAt, d[at + L_NAME_END]!),
      kind,
      d[at + L_START_TIME]!,
      d[at + L_END_TIME]!,
      d[at + L_TRACE_ID]!,
      d[at + L_SPAN_ID]!,
      d[at + L_PARENT_SPAN_ID]!,
      statusAt < 0 ? 0 : readStatusCode(b, statusAt, d[at + L_STATUS_END]!),
      d[at + L_ANOMALY] === 1,
      d[at + L_CODE_ATTR]!,
      d[at + L_CODE_ATTR_END]!,
    );
  }
  return { bytes: b, resources, spans };
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function nanosToMs(b: Uint8Array, p: number): number {
  return (u32(b, p + 4) * 4294967296 + u32(b, p)) / 1e6;
}

/** (end - start) in ms, computed on the 32-bit halves so the difference keeps nanosecond precision. */
function diffNanosToMs(b: Uint8Array, endAt: number, startAt: number): number {
  const hi = u32(b, endAt + 4) - u32(b, startAt + 4);
  const lo = u32(b, endAt) - u32(b, startAt);
  return (hi * 4294967296 + lo) / 1e6;
}
