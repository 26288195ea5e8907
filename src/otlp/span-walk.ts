import { findServiceName } from './span-attributes.js';
import { EXPORT_TRACE_REQUEST, RESOURCE_SPANS, SCOPE_SPANS, SPAN, lenTag } from './fields.js';
import { FieldReader } from './field-reader.js';

const RESOURCE_SPANS_TAG = lenTag(EXPORT_TRACE_REQUEST.resource_spans);
const RESOURCE_TAG = lenTag(RESOURCE_SPANS.resource);
const SCOPE_SPANS_TAG = lenTag(RESOURCE_SPANS.scope_spans);
const SPAN_TAG = lenTag(SCOPE_SPANS.spans);
const TRACE_ID_TAG = lenTag(SPAN.trace_id);

/**
 * Where the spans of a (validated) trace request are, found by walking only the message headers
 * (ResourceSpans, ScopeSpans, Span) without reading any span's fields: much cheaper than a full
 * index when all the holder needs is the spans' byte ranges and trace ids.
 */
export interface SpanSlices {
  /** Byte range of each Span message value, in order. */
  readonly starts: number[];
  readonly ends: number[];
  /** Index of each span's resource. */
  readonly resource: number[];
  /** `service.name` of a resource (computed on first use). */
  service(resource: number): string;
}

export function walkSpans(b: Uint8Array): SpanSlices {
  const starts: number[] = [];
  const ends: number[] = [];
  const resource: number[] = [];
  const resourceRanges: [number, number][] = [];
  const request = new FieldReader(b);
  const entry = new FieldReader(b);
  while (request.next()) {
    if (request.tag !== RESOURCE_SPANS_TAG) {
      request.skip();
      continue;
    }
    entry.reset(b, request.value(), request.valueEnd);
    const r = resourceRanges.length;
    resourceRanges.push([-1, -1]);
    while (entry.next()) {
      if (entry.tag === RESOURCE_TAG) resourceRanges[r] = [entry.value(), entry.valueEnd];
      else if (entry.tag === SCOPE_SPANS_TAG) {
        scopeSpans(b, entry.value(), entry.valueEnd, r, starts, ends, resource);
      } else entry.skip();
    }
  }
  const names = new Map<number, string>();
  return {
    starts,
    ends,
    resource,
    service(i) {
      let name = names.get(i);
      if (name === undefined) {
        const [s, e] = resourceRanges[i] ?? [-1, -1];
        name = (s >= 0 ? findServiceName(b, s, e) : undefined) ?? 'unknown_service';
        names.set(i, name);
      }
      return name;
    },
  };
}

function scopeSpans(
  b: Uint8Array,
  start: number,
  end: number,
  r: number,
  starts: number[],
  ends: number[],
  resource: number[],
): void {
  const f = new FieldReader(b, start, end);
  while (f.next()) {
    if (f.tag !== SPAN_TAG) {
      f.skip();
      continue;
    }
    starts.push(f.value());
    ends.push(f.valueEnd);
    resource.push(r);
  }
}

/** Offset of a span's 16-byte trace id, or -1. SDKs write it first; else the fields are walked. */
export function traceIdOffset(b: Uint8Array, start: number, end: number): number {
  if (b[start] === TRACE_ID_TAG && b[start + 1] === 16) return start + 2;
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.tag === TRACE_ID_TAG) {
      const at = r.value();
      return r.valueEnd - at === 16 ? at : -1;
    }
    r.skip();
  }
  return -1;
}
