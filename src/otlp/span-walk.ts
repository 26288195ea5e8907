import { findServiceName } from './span-attributes.js';
import { EXPORT_TRACE_REQUEST, RESOURCE_SPANS, SCOPE_SPANS, SPAN, lenTag } from './fields.js';
import { WIRE_LEN, readVarint32, skipField, type Cursor } from './wire.js';

const RESOURCE_SPANS_TAG = lenTag(EXPORT_TRACE_REQUEST.resource_spans);
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
  const c: Cursor = { pos: 0 };
  while (c.pos < b.length) {
    const tag = readVarint32(b, c, b.length);
    if (tag !== RESOURCE_SPANS_TAG) {
      skipField(b, c, tag & 7, b.length);
      continue;
    }
    const len = readVarint32(b, c, b.length);
    const rsEnd = c.pos + len;
    const r = resourceRanges.length;
    resourceRanges.push([-1, -1]);
    while (c.pos < rsEnd) {
      const t = readVarint32(b, c, rsEnd);
      if ((t & 7) !== WIRE_LEN) {
        skipField(b, c, t & 7, rsEnd);
        continue;
      }
      const l = readVarint32(b, c, rsEnd);
      const end = c.pos + l;
      if (t >>> 3 === RESOURCE_SPANS.resource) resourceRanges[r] = [c.pos, end];
      else if (t >>> 3 === RESOURCE_SPANS.scope_spans) {
        scopeSpans(b, c.pos, end, r, starts, ends, resource);
      }
      c.pos = end;
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
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag !== SPAN_TAG) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    starts.push(c.pos);
    ends.push(c.pos + len);
    resource.push(r);
    c.pos += len;
  }
}

/** Offset of a span's 16-byte trace id, or -1. SDKs write it first; else the fields are walked. */
export function traceIdOffset(b: Uint8Array, start: number, end: number): number {
  if (b[start] === TRACE_ID_TAG && b[start + 1] === 16) return start + 2;
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag === TRACE_ID_TAG) {
      const len = readVarint32(b, c, end);
      return len === 16 ? c.pos : -1;
    }
    skipField(b, c, tag & 7, end);
  }
  return -1;
}
