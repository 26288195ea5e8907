import { ProtoWriter, WIRE_LEN, readVarint32, skipField, type Cursor } from './wire.js';

/** An edit that replaces an item's value (its fields) with `replace`. */
export interface ItemReplacement {
  readonly replace: Uint8Array;
}

/**
 * Edits the items (spans, log records) of an encoded trace or logs export request without decoding
 * it: `edits` maps the start offset of an item's value to `null` (drop the item), to bytes to
 * append to it (extra fields, such as the anomaly attributes: protobuf merges a repeated field
 * that appears again), or to a replacement of its value. Resource and scope entries without an
 * edited item are copied as they are; only the enclosing lengths of edited ones are rewritten.
 *
 * Both requests have the same three levels: request.1 -> resource entry.2 -> scope entry.2 -> item.
 */
export function rewriteItems(
  buf: Uint8Array,
  edits: ReadonlyMap<number, Uint8Array | ItemReplacement | null>,
): Uint8Array {
  if (edits.size === 0) return buf;
  const keys = Float64Array.from(edits.keys()).sort();
  let extra = 0;
  for (const e of edits.values()) {
    if (e) extra += (e instanceof Uint8Array ? e.length : e.replace.length) + 10;
  }
  const w = new ProtoWriter(buf.length + extra + 64);
  const c: Cursor = { pos: 0 };
  let next = 0;
  copyLevel(buf, 0, buf.length, 1, w, c, keys, (vs, ve) => {
    copyLevel(buf, vs, ve, 2, w, { pos: 0 }, keys, (ss, se) => {
      // Unedited items are copied in runs, one copy per run of neighbours, not one per item.
      // Items come in ascending offsets, as the sorted keys do: `next` walks along them.
      const inner: Cursor = { pos: ss };
      let runStart = ss;
      while (inner.pos < se) {
        const tagStart = inner.pos;
        const tag = readVarint32(buf, inner, se);
        if (tag >>> 3 !== 2 || (tag & 7) !== WIRE_LEN) {
          skipField(buf, inner, tag & 7, se);
          continue;
        }
        const len = readVarint32(buf, inner, se);
        const valueStart = inner.pos;
        inner.pos += len;
        while (next < keys.length && keys[next]! < valueStart) next++;
        if (next >= keys.length || keys[next] !== valueStart) continue;
        const edit = edits.get(valueStart);
        if (tagStart > runStart) w.raw(buf.subarray(runStart, tagStart));
        runStart = inner.pos;
        if (edit instanceof Uint8Array) {
          w.fork().raw(buf.subarray(valueStart, inner.pos)).raw(edit).join(2);
        } else if (edit) {
          w.fork().raw(edit.replace).join(2);
        }
      }
      if (se > runStart) w.raw(buf.subarray(runStart, se));
    });
  });
  // The writer was sized for the result: hand its buffer on rather than copying it again.
  return w.finishView();
}

/**
 * Copies the fields of one message level. A length-delimited field `field` whose value holds an
 * edited offset is re-emitted through `descend`; every other field is copied byte for byte.
 */
function copyLevel(
  buf: Uint8Array,
  start: number,
  end: number,
  field: number,
  w: ProtoWriter,
  c: Cursor,
  keys: Float64Array,
  descend: (valueStart: number, valueEnd: number) => void,
): void {
  c.pos = start;
  while (c.pos < end) {
    const tagStart = c.pos;
    const tag = readVarint32(buf, c, end);
    if (tag >>> 3 === field && (tag & 7) === WIRE_LEN) {
      const len = readVarint32(buf, c, end);
      const valueStart = c.pos;
      const valueEnd = valueStart + len;
      c.pos = valueEnd;
      if (hasKeyIn(keys, valueStart, valueEnd)) {
        w.fork();
        descend(valueStart, valueEnd);
        w.join(field);
        continue;
      }
    } else {
      skipField(buf, c, tag & 7, end);
    }
    w.raw(buf.subarray(tagStart, c.pos));
  }
}

function hasKeyIn(keys: Float64Array, start: number, end: number): boolean {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < keys.length && keys[lo]! < end;
}
