import type { Signal } from './signal.js';
import { requestSpecs, type FieldSpec, type MessageSpec } from './spec.js';
import { MAX_DEPTH } from './validate.js';
import { ProtoWriter, WireError } from './wire.js';

/**
 * OTLP/JSON to protobuf, as the OTLP specification defines the JSON mapping: proto3 JSON with
 * lowerCamelCase keys (snake_case accepted too), trace and span ids as hex, enums as integers (names
 * accepted), 64-bit integers as strings or numbers, unknown fields ignored. Every value is checked
 * against its field's type; an error names the path (`resourceSpans[0].scopeSpans[0].spans[2].traceId`)
 * and what was wrong. The result is the same bytes a protobuf client would have sent, so one
 * pipeline serves both encodings.
 */
export function jsonToProto(signal: Signal, text: string): Uint8Array {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new WireError(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new WireError('invalid OTLP/JSON: the request must be a JSON object');
  }
  const w = new ProtoWriter(text.length);
  writeMessage(w, doc as Record<string, unknown>, requestSpecs().request[signal], '', 0);
  return w.finish();
}

function fail(path: string, message: string): never {
  throw new WireError(path ? `${path}: ${message}` : message);
}

function writeMessage(
  w: ProtoWriter,
  obj: Record<string, unknown>,
  spec: MessageSpec,
  path: string,
  depth: number,
): void {
  if (depth > MAX_DEPTH) fail(path, `objects nested deeper than ${MAX_DEPTH} levels`);
  let oneofSeen: Map<string, string> | undefined;
  for (const key in obj) {
    const field = spec.byJsonKey.get(key);
    if (field === undefined) continue;
    const value = obj[key];
    if (value === null || value === undefined) continue;
    const fieldPath = path ? `${path}.${key}` : key;
    if (field.oneof !== undefined) {
      oneofSeen ??= new Map();
      const other = oneofSeen.get(field.oneof);
      if (other !== undefined) fail(fieldPath, `only one of ${other} and ${key} may be set`);
      oneofSeen.set(field.oneof, key);
    }
    if (field.repeated) {
      if (!Array.isArray(value)) fail(fieldPath, `expected an array, got ${describe(value)}`);
      if (field.packable) {
        if (value.length === 0) continue;
        w.fork();
        for (let i = 0; i < value.length; i++)
          writeScalar(w, field, value[i], `${fieldPath}[${i}]`);
        w.join(field.number);
      } else {
        for (let i = 0; i < value.length; i++) {
          writeField(w, field, value[i], `${fieldPath}[${i}]`, depth);
        }
      }
    } else {
      if (!field.hasPresence && isDefault(field, value)) continue;
      writeField(w, field, value, fieldPath, depth);
    }
  }
}

/**
 * proto3 does not write scalar fields that hold their default value; skipping them makes the
 * bytes the same as a protobuf client's. Wrong types are left for `writeScalar` to report.
 */
function isDefault(field: FieldSpec, value: unknown): boolean {
  switch (field.kind) {
    case 'string':
    case 'bytes':
      return value === '';
    case 'bool':
      return value === false;
    case 'message':
      return false;
    default:
      return value === 0 || value === '0';
  }
}

function writeField(
  w: ProtoWriter,
  field: FieldSpec,
  value: unknown,
  path: string,
  depth: number,
): void {
  if (field.kind === 'message') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      fail(path, `expected an object, got ${describe(value)}`);
    }
    w.fork();
    writeMessage(w, value as Record<string, unknown>, field.message!, path, depth + 1);
    w.join(field.number);
    return;
  }
  w.tag(field.number, field.wire);
  writeScalar(w, field, value, path);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function writeScalar(w: ProtoWriter, field: FieldSpec, value: unknown, path: string): void {
  switch (field.kind) {
    case 'string':
      if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
      w.string(value);
      return;
    case 'bytes':
      w.bytes(field.idBytes !== undefined ? hexId(value, field, path) : base64(value, path));
      return;
    case 'bool':
      if (typeof value !== 'boolean') fail(path, `expected true or false, got ${describe(value)}`);
      w.varint(value ? 1 : 0);
      return;
    case 'enum': {
      let n: number | undefined;
      if (typeof value === 'number' && Number.isInteger(value)) n = value;
      else if (typeof value === 'string') n = field.enumValues![value];
      if (n === undefined || n < -2147483648 || n > 2147483647) {
        fail(path, `expected an enum value (an integer), got ${describe(value)}`);
      }
      w.varint(n);
      return;
    }
    case 'double':
    case 'float': {
      const d = toDouble(value, path);
      if (field.kind === 'double') w.double(d);
      else {
        const f = new Float32Array([d]);
        w.raw(new Uint8Array(f.buffer));
      }
      return;
    }
    case 'varint':
    case 'i32':
    case 'i64':
      writeInteger(w, field, value, path);
      return;
    default:
      fail(path, `unsupported field type ${field.type}`);
  }
}

function writeInteger(w: ProtoWriter, field: FieldSpec, value: unknown, path: string): void {
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      fail(path, `expected an integer, got ${describe(value)}`);
    }
    n = BigInt(value);
  } else if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) {
    n = BigInt(value);
  } else {
    fail(path, `expected an integer (a number or a decimal string), got ${describe(value)}`);
  }
  const t = field.type;
  const signed =
    t === 'int32' ||
    t === 'int64' ||
    t === 'sint32' ||
    t === 'sint64' ||
    t === 'sfixed32' ||
    t === 'sfixed64';
  const bits = t.endsWith('32') ? 32 : 64;
  const min = signed ? (bits === 32 ? -(2n ** 31n) : INT64_MIN) : 0n;
  const max = signed
    ? bits === 32
      ? 2n ** 31n - 1n
      : INT64_MAX
    : bits === 32
      ? 2n ** 32n - 1n
      : UINT64_MAX;
  if (n < min || n > max) fail(path, `${String(value)} is out of range for ${t}`);
  switch (t) {
    case 'sint32':
    case 'sint64':
      w.varintBig(n >= 0n ? n * 2n : -n * 2n - 1n);
      return;
    case 'fixed32':
    case 'sfixed32':
      w.fixed32(Number(BigInt.asUintN(32, n)));
      return;
    case 'fixed64':
    case 'sfixed64':
      w.fixed64Big(n);
      return;
    default:
      w.varintBig(n);
  }
}

function toDouble(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
    return Number(value);
  fail(path, `expected a number, got ${describe(value)}`);
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function hexId(value: unknown, field: FieldSpec, path: string): Uint8Array {
  if (typeof value !== 'string') fail(path, `expected a hex string, got ${describe(value)}`);
  if (value === '') return new Uint8Array(0);
  if (!HEX_RE.test(value) || value.length !== field.idBytes! * 2) {
    fail(
      path,
      `"${clip(value)}" is not a ${field.idBytes! * 2}-character hex ${field.name.replace(/_/g, ' ')}`,
    );
  }
  return Buffer.from(value, 'hex');
}

const B64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64(value: unknown, path: string): Uint8Array {
  if (typeof value !== 'string' || !B64_RE.test(value)) {
    fail(path, `expected base64 bytes, got ${describe(value)}`);
  }
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `"${clip(v)}"`;
  return `${typeof v} ${String(v)}`;
}
