import type { Signal } from './signal.js';
import { requestSpecs, type FieldSpec, type MessageSpec } from './spec.js';
import { WIRE_LEN, readVarint32, skipField, type Cursor } from './wire.js';
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
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    const field = spec.byNumber[tag >>> 3];
    const wire = tag & 7;
    if (!field) {
      skipField(b, c, wire, end);
      continue;
    }
    if (field.packable && wire === WIRE_LEN) {
      const len = readVarint32(b, c, end);
      const packedEnd = c.pos + len;
      const list = (out[field.jsonName] ??= []) as unknown[];
      while (c.pos < packedEnd) list.push(readScalar(b, c, field, packedEnd));
      continue;
    }
    const value = readValue(b, c, field, end);
    if (field.repeated) ((out[field.jsonName] ??= []) as unknown[]).push(value);
    else out[field.jsonName] = value;
  }
  return out;
}

function readValue(b: Uint8Array, c: Cursor, field: FieldSpec, end: number): unknown {
  if (field.kind === 'message' || field.kind === 'string' || field.kind === 'bytes') {
    const len = readVarint32(b, c, end);
    const vs = c.pos;
    c.pos += len;
    if (field.kind === 'message') return readMessage(b, vs, vs + len, field.message!);
    if (field.kind === 'string') return decoder.decode(b.subarray(vs, vs + len));
    if (field.idBytes !== undefined) return hexAt(b, vs, len);
    return Buffer.from(b.subarray(vs, vs + len)).toString('base64');
  }
  return readScalar(b, c, field, end);
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
