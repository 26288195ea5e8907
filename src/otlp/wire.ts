/**
 * Protobuf wire format, the small part hourglass needs to read and write OTLP without building
 * objects for every field: varints, fixed32/64, length-delimited fields. Hot path: no closures,
 * no allocation per field.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export class WireError extends Error {}

/**
 * Reads a varint of at most 32 significant bits at `pos` of `buf`. Returns the value and stores
 * the position after it in `cursor.pos`. Larger varints (up to 10 bytes) are accepted and
 * truncated to their low 32 bits, which is what length and tag fields need.
 */
export interface Cursor {
  pos: number;
}

export function readVarint32(buf: Uint8Array, cursor: Cursor, end: number): number {
  let pos = cursor.pos;
  let b = 0;
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) throw new WireError('truncated varint');
    b = buf[pos++]!;
    if (shift < 32) result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.pos = pos;
      return result >>> 0;
    }
  }
  throw new WireError('varint longer than 10 bytes');
}

/**
 * Reads a varint that must fit in 32 bits: a tag or a length. A larger value is an error, as a
 * strict decoder (Go's) sees it, where `readVarint32` would keep its low 32 bits and read a
 * different field or length than the downstream will. Non-minimal encodings (zero payload bytes
 * with the continuation bit) are accepted, as protobuf allows, up to 10 bytes.
 */
export function readUint32(buf: Uint8Array, cursor: Cursor, end: number): number {
  let pos = cursor.pos;
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) throw new WireError('truncated varint');
    const b = buf[pos++]!;
    // The 5th byte holds bits 28..31 (and 3 more that must be 0); later bytes must be 0.
    const over = shift < 28 ? 0 : shift === 28 ? b & 0x70 : b & 0x7f;
    if (over !== 0) throw new WireError('varint tag or length larger than 32 bits');
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.pos = pos;
      return result >>> 0;
    }
  }
  throw new WireError('varint longer than 10 bytes');
}

/**
 * Reads a varint as a JS number (exact up to 2^53). A 10-byte varint whose last byte carries
 * more than the 64th bit overflows 64 bits and is an error, as in Go's `protowire`.
 */
export function readVarintNumber(buf: Uint8Array, cursor: Cursor, end: number): number {
  let pos = cursor.pos;
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new WireError('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (i === 9 && b > 1) throw new WireError('varint overflows 64 bits');
      cursor.pos = pos;
      return result;
    }
    mul *= 128;
  }
  throw new WireError('varint longer than 10 bytes');
}

/** Skips a field's value of the given wire type; returns the position after it. */
export function skipField(buf: Uint8Array, cursor: Cursor, wireType: number, end: number): void {
  switch (wireType) {
    case WIRE_VARINT:
      readVarintNumber(buf, cursor, end);
      return;
    case WIRE_I64:
      if (cursor.pos + 8 > end) throw new WireError('truncated fixed64');
      cursor.pos += 8;
      return;
    case WIRE_LEN: {
      const len = readUint32(buf, cursor, end);
      if (len > end - cursor.pos)
        throw new WireError('length-delimited field runs past its message');
      cursor.pos += len;
      return;
    }
    case WIRE_I32:
      if (cursor.pos + 4 > end) throw new WireError('truncated fixed32');
      cursor.pos += 4;
      return;
    default:
      throw new WireError(`invalid wire type ${wireType}`);
  }
}

export function readFixed64BigInt(buf: Uint8Array, pos: number): bigint {
  const lo =
    (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
  const hi =
    (buf[pos + 4]! | (buf[pos + 5]! << 8) | (buf[pos + 6]! << 16) | (buf[pos + 7]! << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);

/**
 * A growable protobuf writer. Nested messages are written with `fork()` / `join(field)`, which
 * reserves no space up front: the body is written first and moved once its length is known.
 */
export class ProtoWriter {
  private buf: Buffer;
  pos = 0;
  private readonly stack: number[] = [];

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(v: number): this {
    this.ensure(10);
    if (v < 0) {
      // Negative int32/int64 values are written as 10-byte two's complement varints.
      return this.varintBig(BigInt.asUintN(64, BigInt(Math.trunc(v))));
    }
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  varintBig(v: bigint): this {
    this.ensure(10);
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  fixed32(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.pos += 4;
    return this;
  }

  fixed64Big(v: bigint): this {
    const x = BigInt.asUintN(64, v);
    this.fixed32(Number(x & 0xffffffffn));
    return this.fixed32(Number(x >> 32n));
  }

  /** fixed64 from a non-negative number (nanosecond timestamps are below 2^63 but above 2^53: use fixed64Big for exactness). */
  fixed64(v: number): this {
    this.fixed32(v % 4294967296);
    return this.fixed32(Math.floor(v / 4294967296));
  }

  double(v: number): this {
    this.ensure(8);
    f64[0] = v;
    this.buf.set(f64bytes, this.pos);
    this.pos += 8;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  raw(data: Uint8Array): this {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  string(s: string): this {
    // Worst case 3 bytes per UTF-16 unit.
    const max = s.length * 3;
    this.ensure(max + 5);
    const lenPos = this.pos;
    const start = lenPos + varintSize(max);
    const written = this.buf.write(s, start, 'utf8');
    const lenSize = varintSize(written);
    if (lenSize !== start - lenPos) this.buf.copyWithin(lenPos + lenSize, start, start + written);
    this.pos = lenPos;
    this.varint(written);
    this.pos += written;
    return this;
  }

  /** Starts a nested message; finish it with `join(field)`. */
  fork(): this {
    this.stack.push(this.pos);
    return this;
  }

  /** Ends the nested message started by the matching `fork()`, writing it as field `field`. */
  join(field: number): this {
    const start = this.stack.pop();
    if (start === undefined) throw new Error('join() without fork()');
    const len = this.pos - start;
    const header = varintSize(field * 8 + WIRE_LEN) + varintSize(len);
    this.ensure(header);
    this.buf.copyWithin(start + header, start, this.pos);
    const end = this.pos + header;
    this.pos = start;
    this.tag(field, WIRE_LEN).varint(len);
    this.pos = end;
    return this;
  }

  finish(): Uint8Array {
    if (this.stack.length > 0) throw new Error('finish() with an unjoined fork()');
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /**
   * The bytes written, as a view of the writer's own buffer (no copy). For writers sized to fit
   * what they write (the view keeps the whole buffer alive); the writer must not be used after.
   */
  finishView(): Uint8Array {
    if (this.stack.length > 0) throw new Error('finishView() with an unjoined fork()');
    return this.buf.subarray(0, this.pos);
  }
}
