import type { ItemReplacement } from '../../../otlp/rewrite.js';
import { forEachAttribute, isAnomalyKeyValue, type SpanRef } from '../../../otlp/trace-index.js';

/**
 * Spans that arrive already carrying `anomaly.*` attributes: a second hourglass in the path, a
 * replay of tagged spans, a loop through other hops. Tagging such a span again replaces those
 * attributes (never duplicates them); a span that is not tagged now is forwarded as it came.
 */

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

/** The byte ranges (tag included) of a span's `anomaly.*` attribute fields, into `ranges`. */
function anomalyRanges(b: Uint8Array, start: number, end: number, ranges: number[]): void {
  forEachAttribute(b, start, end, (kvStart, kvEnd, fieldStart) => {
    if (isAnomalyKeyValue(b, kvStart, kvEnd)) ranges.push(fieldStart, kvEnd);
  });
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
