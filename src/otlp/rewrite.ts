import { FieldReader } from './field-reader.js';
import { REQUEST_LEVELS } from './fields.js';
import { ProtoWriter } from './wire.js';

const { entry: ENTRY, scope: SCOPE, item: ITEM } = REQUEST_LEVELS;

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
 * Both requests have the same three levels (`REQUEST_LEVELS`): request -> resource entry -> scope
 * entry -> item.
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
  let next = 0;
  const items = new FieldReader(buf);
  copyLevel(new FieldReader(buf), 0, buf.length, ENTRY, w, keys, (vs, ve) => {
    copyLevel(new FieldReader(buf), vs, ve, SCOPE, w, keys, (ss, se) => {
      // Unedited items are copied in runs, one copy per run of neighbours, not one per item.
      // Items come in ascending offsets, as the sorted keys do: `next` walks along them.
      const r = items.reset(buf, ss, se);
      let runStart = ss;
      while (r.next()) {
        if (!r.isLen(ITEM)) {
          r.skip();
          continue;
        }
        const tagStart = r.fieldStart;
        const valueStart = r.value();
        while (next < keys.length && keys[next]! < valueStart) next++;
        if (next >= keys.length || keys[next] !== valueStart) continue;
        const edit = edits.get(valueStart);
        if (tagStart > runStart) w.raw(buf.subarray(runStart, tagStart));
        runStart = r.pos;
        if (edit instanceof Uint8Array) {
          w.fork().raw(buf.subarray(valueStart, r.valueEnd)).raw(edit).join(ITEM);
        } else if (edit) {
          w.fork().raw(edit.replace).join(ITEM);
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
  r: FieldReader,
  start: number,
  end: number,
  field: number,
  w: ProtoWriter,
  keys: Float64Array,
  descend: (valueStart: number, valueEnd: number) => void,
): void {
  const buf = r.reset(r.buf, start, end).buf;
  while (r.next()) {
    if (r.isLen(field)) {
      const valueStart = r.value();
      const valueEnd = r.valueEnd;
      if (hasKeyIn(keys, valueStart, valueEnd)) {
        w.fork();
        descend(valueStart, valueEnd);
        w.join(field);
        continue;
      }
    } else {
      r.skip();
    }
    w.raw(buf.subarray(r.fieldStart, r.pos));
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
