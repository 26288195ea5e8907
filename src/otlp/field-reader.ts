import {
  WIRE_LEN,
  WireError,
  readVarint32,
  readVarintNumber,
  skipField,
  type Cursor,
} from './wire.js';

/**
 * The one field walker of the hand-written OTLP readers: reads a message's fields one tag at a
 * time, lets the caller dispatch on the named field (`fields.ts`), and skips what it does not
 * read by its wire type. No closure and no allocation per field; one reader per message walked
 * (or one reused with `reset`).
 *
 * ```ts
 * const r = new FieldReader(b, start, end);
 * while (r.next()) {
 *   if (r.tag === NAME_TAG) name = text(b, r.value(), r.valueEnd);
 *   else if (r.field === SPAN.kind && r.wire === WIRE_VARINT) kind = r.varint32();
 *   else r.skip();
 * }
 * ```
 *
 * The reader is a `Cursor`: the `wire.ts` functions read from it directly (`readVarint32(b, r,
 * r.end)`). It reads what validation accepted; a field or length that runs past the message's
 * end throws `WireError`.
 */
export class FieldReader implements Cursor {
  /** Position of the next byte to read. */
  pos: number;
  /** End of the message being read. */
  end: number;
  buf: Uint8Array;
  /** The field read by `next()`: its tag, number and wire type, and where its tag starts. */
  tag = 0;
  field = 0;
  wire = 0;
  fieldStart = 0;
  /** After `value()`: the end of the length-delimited value (its start is what `value()` returns). */
  valueEnd = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Reads the message `buf[start, end)` from its first field. */
  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** Reads the next field's tag; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    this.fieldStart = this.pos;
    const tag = readVarint32(this.buf, this, this.end);
    this.tag = tag;
    this.field = tag >>> 3;
    this.wire = tag & 7;
    return true;
  }

  /** Whether the current field is the length-delimited field number `field`. */
  isLen(field: number): boolean {
    return this.field === field && this.wire === WIRE_LEN;
  }

  /** Skips the current field's value, whatever its wire type. */
  skip(): void {
    skipField(this.buf, this, this.wire, this.end);
  }

  /**
   * The current (length-delimited) field's value: returns its start, sets `valueEnd`, and moves
   * past it.
   */
  value(): number {
    const len = readVarint32(this.buf, this, this.end);
    const start = this.pos;
    if (len > this.end - start) throw new WireError('length-delimited field runs past its message');
    this.valueEnd = start + len;
    this.pos = this.valueEnd;
    return start;
  }

  /** The current varint field's value, its low 32 bits (enums, lengths, small counts). */
  varint32(): number {
    return readVarint32(this.buf, this, this.end);
  }

  /** The current varint field's value as a number (exact up to 2^53). */
  varint(): number {
    return readVarintNumber(this.buf, this, this.end);
  }

  /** The current fixed64 field: returns the offset of its 8 bytes and moves past them. */
  fixed64At(): number {
    const at = this.pos;
    if (at + 8 > this.end) throw new WireError('truncated fixed64');
    this.pos = at + 8;
    return at;
  }
}
