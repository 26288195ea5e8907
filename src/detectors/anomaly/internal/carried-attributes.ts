import { ANOMALY_PREFIX } from '../attributes.js';
import type { ItemReplacement } from '../../../otlp/rewrite.js';
import type { SpanRef } from '../../../otlp/trace-index.js';
import { WIRE_LEN, readVarint32, skipField, type Cursor } from '../../../otlp/wire.js';

/**
 * Spans that arrive already carrying `anomaly.*` attributes: a second hourglass in the path, a
 * replay of tagged spans, a loop through other hops. Tagging such a span again replaces those
 * attributes (never duplicates them); a span that is not tagged now is forwarded as it came.
 */

const PREFIX = Buffer.from(ANOMALY_PREFIX);
const SPAN_ATTRIBUTES = 9;

/**
 * Per span, 1 when it carries an `anomaly.*` attribute; undefined when none does. A request without
 * the prefix anywhere in its bytes (nearly all) costs one memchr-speed search.
 */
export function spansCarrying(
  bytes: Uint8Array,
  spans: readonly SpanRef[],
): Uint8Array | undefined {
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = buf.indexOf(PREFIX);
  let out: Uint8Array | undefined;
  // Spans come in ascending offsets: walk them along the prefix's occurrences.
  for (let i = 0; at >= 0 && i < spans.length;) {
    const s = spans[i]!;
    if (s.end <= at) {
      i++;
    } else if (s.start > at) {
      at = buf.indexOf(PREFIX, s.start);
    } else {
      if (anomalyRanges(bytes, s.start, s.end, undefined)) {
        (out ??= new Uint8Array(spans.length))[i] = 1;
      }
      at = buf.indexOf(PREFIX, s.end);
      i++;
    }
  }
  return out;
}

/** The fields of a span's value `bytes[start, end)` without its `anomaly.*` attributes. */
export function withoutAnomalyAttributes(
  bytes: Uint8Array,
  start: number,
  end: number,
): Uint8Array {
  const drop: number[] = [];
  anomalyRanges(bytes, start, end, drop);
  let size = end - start;
  for (let k = 0; k < drop.length; k += 2) size -= drop[k + 1]! - drop[k]!;
  const out = new Uint8Array(size);
  let pos = 0;
  let from = start;
  for (let k = 0; k < drop.length; k += 2) {
    out.set(bytes.subarray(from, drop[k]!), pos);
    pos += drop[k]! - from;
    from = drop[k + 1]!;
  }
  out.set(bytes.subarray(from, end), pos);
  return out;
}

/**
 * Whether the span's fields hold an `anomaly.*` attribute; with `ranges`, collects the byte range
 * (tag included) of every such attribute field.
 */
function anomalyRanges(
  b: Uint8Array,
  start: number,
  end: number,
  ranges: number[] | undefined,
): boolean {
  const c: Cursor = { pos: start };
  let found = false;
  while (c.pos < end) {
    const fieldStart = c.pos;
    const tag = readVarint32(b, c, end);
    if (tag !== ((SPAN_ATTRIBUTES << 3) | WIRE_LEN)) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    const kvStart = c.pos;
    c.pos += len;
    if (!keyHasPrefix(b, kvStart, c.pos)) continue;
    found = true;
    if (!ranges) return true;
    ranges.push(fieldStart, c.pos);
  }
  return found;
}

/** KeyValue {key 1, value 2}: whether its key starts with `anomaly.`. */
function keyHasPrefix(b: Uint8Array, start: number, end: number): boolean {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag !== ((1 << 3) | WIRE_LEN)) {
      skipField(b, c, tag & 7, end);
      continue;
    }
    const len = readVarint32(b, c, end);
    if (len < PREFIX.length) return false;
    for (let i = 0; i < PREFIX.length; i++) if (b[c.pos + i] !== PREFIX[i]) return false;
    return true;
  }
  return false;
}

/**
 * The edit (for `rewriteItems`) that tags a span with `attributes`: appended to its fields, or,
 * when it carries `anomaly.*` attributes already, replacing those.
 */
export function tagEdit(
  bytes: Uint8Array,
  span: SpanRef,
  carries: boolean,
  attributes: Uint8Array,
): Uint8Array | ItemReplacement {
  if (!carries) return attributes;
  const own = withoutAnomalyAttributes(bytes, span.start, span.end);
  const replace = new Uint8Array(own.length + attributes.length);
  replace.set(own);
  replace.set(attributes, own.length);
  return { replace };
}
