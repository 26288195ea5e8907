import { describe, expect, it } from 'vitest';
import { FieldReader } from '../../src/otlp/field-reader.js';
import {
  ProtoWriter,
  WIRE_I32,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  WireError,
} from '../../src/otlp/wire.js';

/** A message with one field of each wire type, and one nested message. */
function message(): Uint8Array {
  const w = new ProtoWriter();
  w.tag(1, WIRE_VARINT).varint(300);
  w.tag(2, WIRE_LEN).string('hé');
  w.tag(3, WIRE_I64).fixed64(2 ** 40 + 7);
  w.tag(4, WIRE_I32).fixed32(9);
  w.tag(5, WIRE_VARINT).varint(2 ** 50);
  w.fork().tag(1, WIRE_LEN).string('inner').join(6);
  return w.finish();
}

describe('FieldReader', () => {
  it('reads each field by number and wire type, and skips those not read', () => {
    const b = message();
    const r = new FieldReader(b);
    const seen: string[] = [];
    while (r.next()) {
      if (r.field === 1 && r.wire === WIRE_VARINT) seen.push(`1=${r.varint32()}`);
      else if (r.isLen(2)) {
        const at = r.value();
        seen.push(`2=${Buffer.from(b.subarray(at, r.valueEnd)).toString()}`);
      } else if (r.field === 3 && r.wire === WIRE_I64) {
        seen.push(`3@${r.fixed64At()}`);
      } else if (r.field === 5) seen.push(`5=${r.varint()}`);
      else if (r.isLen(6)) {
        const inner = new FieldReader(b, r.value(), r.valueEnd);
        while (inner.next()) {
          seen.push(`6.${inner.field}@${inner.fieldStart}`);
          inner.skip();
        }
      } else {
        seen.push(`skip ${r.field}/${r.wire}`);
        r.skip();
      }
    }
    // 1 at 0: tag, 2-byte varint; 2 at 3: tag, length, 3 bytes (é is two); 3 at 8, its value at 9;
    // 4 at 17 (4 bytes); 5 at 22 (an 8-byte varint); 6 at 31: tag, length, its fields from 33.
    expect(seen).toEqual(['1=300', '2=hé', '3@9', 'skip 4/5', `5=${2 ** 50}`, '6.1@33']);
    expect(r.pos).toBe(b.length);
  });

  it('reads from `start` to `end` only, and again after `reset`', () => {
    const b = message();
    const r = new FieldReader(b, 3, 8); // the field 2 only
    expect(r.next()).toBe(true);
    expect([r.field, r.wire, r.fieldStart]).toEqual([2, WIRE_LEN, 3]);
    r.skip();
    expect(r.next()).toBe(false);
    r.reset(b, 0, 3);
    expect(r.next() && r.varint32()).toBe(300);
    expect(r.next()).toBe(false);
  });

  it('refuses a value that runs past its message', () => {
    const w = new ProtoWriter();
    w.tag(2, WIRE_LEN).varint(10).raw(new Uint8Array(3));
    const r = new FieldReader(w.finish());
    r.next();
    expect(() => r.value()).toThrow(WireError);
    const fixed = new ProtoWriter().tag(3, WIRE_I64).raw(new Uint8Array(4)).finish();
    const f = new FieldReader(fixed);
    f.next();
    expect(() => f.fixed64At()).toThrow('truncated fixed64');
    const skipped = new FieldReader(w.finish());
    skipped.next();
    expect(() => skipped.skip()).toThrow(WireError);
  });
});
