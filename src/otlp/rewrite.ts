import { ProtoWriter, WIRE_LEN, readVarint32, skipField, type Cursor } from './wire.js';

/**
 * Edits the items (spans, log records) of an encoded trace or logs export request without decoding
 * it: `edits` maps the start offset of an item's value to `null` (drop the item) or to bytes to
 * append to it (extra fields, such as the anomaly attributes: protobuf merges a repeated field
 * that appears again). Resource and scope entries without an edited item are copied as they are;
 * only the enclosing lengths of edited ones are rewritten.
 *
 * Both requests have the same three levels: request.1 -> resource entry.2 -> scope entry.2 -> item.
 */
export function rewriteItems(
  buf: Uint8Array,
  edits: ReadonlyMap<number, Uint8Array | null>,
): Uint8Array {
  if (edits.size === 0) return buf;
  const keys = Float64Array.from(edits.keys()).sort();
  let extra = 0;
  for (const e of edits.values()) if (e) extra += e.length + 10;
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
        if (edit) w.fork().raw(buf.subarray(valueStart, inner.pos)).raw(edit).join(2);
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

/**
 * The same edit, returned as parts rather than one new buffer: views of the unchanged runs of
 * `buf`, new length prefixes for the enclosing messages, and the edits. Nothing of the request is
 * copied, so tagging a few spans of a 500-span request costs a few small buffers, not a copy of
 * it; the parts travel as a `JoinedBatch`.
 */
export function rewriteItemsParts(
  buf: Uint8Array,
  edits: ReadonlyMap<number, Uint8Array | null>,
): { parts: Uint8Array[]; size: number } {
  if (edits.size === 0) return { parts: [buf], size: buf.length };
  const keys = Float64Array.from(edits.keys()).sort();
  const out = new PartList(buf);
  // request.1 -> resource entry.2 -> scope entry.2 -> item
  levelParts(buf, 0, buf.length, 1, keys, out, (rs, re) =>
    levelParts(buf, rs, re, 2, keys, out, (ss, se) => itemParts(buf, ss, se, keys, edits, out)),
  );
  return { parts: out.done, size: out.size };
}

/** Parts in order, with adjacent views of the source merged into one. */
class PartList {
  parts: Uint8Array[] = [];
  size = 0;
  private runStart = -1;
  private runEnd = -1;

  constructor(private readonly src: Uint8Array) {}

  /** `src[start, end)`, merged with the previous view when contiguous. */
  view(start: number, end: number): void {
    if (end <= start) return;
    if (start === this.runEnd) {
      this.runEnd = end;
    } else {
      this.flush();
      this.runStart = start;
      this.runEnd = end;
    }
    this.size += end - start;
  }

  bytes(b: Uint8Array): void {
    this.flush();
    this.parts.push(b);
    this.size += b.length;
  }

  /** A placeholder to fill once the length of what follows is known. */
  mark(): { index: number; size: number } {
    this.flush();
    this.parts.push(EMPTY);
    return { index: this.parts.length - 1, size: this.size };
  }

  fill(mark: { index: number; size: number }, field: number): void {
    this.flush();
    const header = lengthPrefix(field, this.size - mark.size);
    this.parts[mark.index] = header;
    this.size += header.length;
  }

  private flush(): void {
    if (this.runStart >= 0) {
      this.parts.push(this.src.subarray(this.runStart, this.runEnd));
      this.runStart = this.runEnd = -1;
    }
  }

  get done(): Uint8Array[] {
    this.flush();
    return this.parts;
  }
}

const EMPTY = new Uint8Array(0);

function lengthPrefix(field: number, length: number): Uint8Array {
  return new ProtoWriter(12).tag(field, WIRE_LEN).varint(length).finish();
}

function levelParts(
  buf: Uint8Array,
  start: number,
  end: number,
  field: number,
  keys: Float64Array,
  out: PartList,
  descend: (valueStart: number, valueEnd: number) => void,
): void {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tagStart = c.pos;
    const tag = readVarint32(buf, c, end);
    if (tag >>> 3 === field && (tag & 7) === WIRE_LEN) {
      const len = readVarint32(buf, c, end);
      const valueStart = c.pos;
      c.pos = valueStart + len;
      if (hasKeyIn(keys, valueStart, c.pos)) {
        const mark = out.mark();
        descend(valueStart, c.pos);
        out.fill(mark, field);
        continue;
      }
    } else {
      skipField(buf, c, tag & 7, end);
    }
    out.view(tagStart, c.pos);
  }
}

function itemParts(
  buf: Uint8Array,
  start: number,
  end: number,
  keys: Float64Array,
  edits: ReadonlyMap<number, Uint8Array | null>,
  out: PartList,
): void {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tagStart = c.pos;
    const tag = readVarint32(buf, c, end);
    if (tag >>> 3 !== 2 || (tag & 7) !== WIRE_LEN) {
      skipField(buf, c, tag & 7, end);
      out.view(tagStart, c.pos);
      continue;
    }
    const len = readVarint32(buf, c, end);
    const valueStart = c.pos;
    c.pos += len;
    const edit = hasKeyIn(keys, valueStart, valueStart + 1) ? edits.get(valueStart) : undefined;
    if (edit === undefined) {
      out.view(tagStart, c.pos);
    } else if (edit !== null) {
      out.bytes(lengthPrefix(2, len + edit.length));
      out.view(valueStart, c.pos);
      out.bytes(edit);
    }
  }
}
