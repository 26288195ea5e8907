import type { Signal } from './signal.js';
import { requestSpecs, type FieldSpec, type MessageSpec } from './spec.js';
import { FieldReader } from './field-reader.js';
import { WIRE_LEN, readVarint32, type Cursor } from './wire.js';
import { hexAt } from './hex.js';

/**
 * Protobuf to OTLP/JSON objects (what the file exporter writes and the debug exporter prints):
 * lowerCamelCase keys, hex trace and span ids, enums as integers, 64-bit integers as decimal
 * strings, other bytes as base64. Default values are omitted, as proto3 JSON does. Expects bytes
 * that passed `validateRequest`.
 */
export function protoToJson(signal: Signal, bytes: Uint8Array): Record<string, unknown> {
  return readMessage(bytes, 0, bytes.length, requestSpecs().request[signal]);
}

const decoder = new TextDecoder();
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function readMessage(
  b: Uint8Array,
  start: number,
  end: number,
  spec: MessageSpec,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    const field = spec.byNumber[r.field];
    if (!field) {
      r.skip();
      continue;
    }
    if (field.packable && r.wire === WIRE_LEN) {
      const packed = new FieldReader(b, r.value(), r.valueEnd);
      const list = (out[field.jsonName] ??= []) as unknown[];
      while (packed.pos < packed.end) list.push(readScalar(b, packed, field, packed.end));
      continue;
    }
    const value = readValue(b, r, field);
    if (field.repeated) ((out[field.jsonName] ??= []) as unknown[]).push(value);
    else out[field.jsonName] = value;
  }
  return out;
}

function readValue(b: Uint8Array, r: FieldReader, field: FieldSpec): unknown {
  if (field.kind === 'message' || field.kind === 'string' || field.kind === 'bytes') {
    const vs = r.value();
    const ve = r.valueEnd;
    if (field.kind === 'message') return readMessage(b, vs, ve, field.message!);
    if (field.kind === 'string') return decoder.decode(b.subarray(vs, ve));
    if (field.idBytes !== undefined) return hexAt(b, vs, ve - vs);
    return Buffer.from(b.subarray(vs, ve)).toString('base64');
  }
  return readScalar(b, r, field, r.end);
}

function readScalar(b: Uint8Array, c: Cursor, field: FieldSpec, end: number): unknown {
  switch (field.kind) {
    case 'bool':
      return readVarint32(b, c, end) !== 0;
    case 'enum':
      return readVarint32(b, c, end) | 0;
    case 'double': {
      const d = view(b).getFloat64(c.pos, true);
      c.pos += 8;
      return Number.isFinite(d) ? d : String(d);
    }
    case 'float': {
      const f = view(b).getFloat32(c.pos, true);
      c.pos += 4;
      return Number.isFinite(f) ? f : String(f);
    }
    case 'i32': {
      const dv = view(b);
      const v = field.type === 'sfixed32' ? dv.getInt32(c.pos, true) : dv.getUint32(c.pos, true);
      c.pos += 4;
      return v;
    }
    case 'i64': {
      const dv = view(b);
      const v =
        field.type === 'sfixed64' ? dv.getBigInt64(c.pos, true) : dv.getBigUint64(c.pos, true);
      c.pos += 8;
      return v.toString();
    }
    case 'varint': {
      const v = readVarintBig(b, c, end);
      switch (field.type) {
        case 'int32':
          return Number(BigInt.asIntN(32, v));
        case 'uint32':
          return Number(BigInt.asUintN(32, v));
        case 'sint32':
        case 'sint64': {
          const z = (v >> 1n) ^ -(v & 1n);
          return field.type === 'sint32' ? Number(z) : z.toString();
        }
        case 'int64':
          return BigInt.asIntN(64, v).toString();
        default:
          return BigInt.asUintN(64, v).toString();
      }
    }
    default:
      throw new Error(`unexpected field kind ${field.kind}`);
  }
}

function readVarintBig(b: Uint8Array, c: Cursor, end: number): bigint {
  let result = 0n;
  let shift = 0n;
  while (c.pos < end) {
    const byte = b[c.pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return result;
    shift += 7n;
  }
  throw new Error('truncated varint');
}
