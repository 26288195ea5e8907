import { MAX_NAME_BYTES, boundText } from '../../../otlp/bounded-text.js';
import {
  forEachAttribute,
  internedString,
  keyValueAt,
  type SpanRef,
} from '../../../otlp/trace-index.js';
import { FieldReader } from '../../../otlp/field-reader.js';
import { ANY_VALUE } from '../../../otlp/fields.js';
import { WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../../../otlp/wire.js';

/**
 * The operation of a span's key (service, operation, span kind), as the semantic conventions name
 * operations. Usually the span name. But an HTTP span whose name is only its method (`GET`: the
 * current JS auto-instrumentation names Express 5 server spans so, with the route in `http.route`)
 * would put every route of a service in one baseline; such a span's operation is
 * `{method} {http.route}` (server spans) or `{method} {url.template}`, else `{method}
 * {server.address}` (client spans), as the conventions name HTTP spans. `key_attributes` adds the
 * values of further attributes: `{operation} [rpc.method=Charge]`.
 *
 * Every part is bounded (MAX_NAME_BYTES) and so is the whole. The hot path: a span whose name is
 * not a method, with no `key_attributes`, costs one length check; the others, one scan of the
 * span's attributes and lookups in a bounded cache of the operations formed (no string is built
 * per span).
 */

/** Span names that are only an HTTP method, and the `{method}` they stand for. */
const METHOD_NAMES = new Map<string, string>();
// RFC 9110 methods and PATCH (RFC 5789): what the conventions call known methods.
for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']) {
  METHOD_NAMES.set(m, m);
  METHOD_NAMES.set(`HTTP ${m}`, m); // before semantic conventions 1.21 (`HTTP GET`)
}
// An unknown method: `http.request.method` is `_OTHER` and the conventions name the span `HTTP`.
METHOD_NAMES.set('HTTP', 'HTTP');
METHOD_NAMES.set('_OTHER', 'HTTP');
const LONGEST_METHOD_NAME = Math.max(...[...METHOD_NAMES.keys()].map((k) => k.length));

const SERVER = 2;
const CLIENT = 3;
const enc = (s: string) => new TextEncoder().encode(s);
/** The attributes read for HTTP spans: indices into HTTP_KEYS. */
const HTTP_ROUTE = 0;
const URL_TEMPLATE = 1;
const SERVER_ADDRESS = 2;
const NET_PEER_NAME = 3; // `server.address` before semantic conventions 1.21
const HTTP_KEYS = ['http.route', 'url.template', 'server.address', 'net.peer.name'];

/** Operations formed and cached before the cache starts over (bounded memory). */
const CACHE_MAX = 16_384;

/** What stands for an attribute the span does not have, in the cache. */
const ABSENT = Symbol('absent');
type Part = string | typeof ABSENT;
type Tree = Map<Part, Tree | string>;

export class KeyForm {
  private readonly wanted: Uint8Array[];
  private readonly extra: number;
  private readonly values: (string | undefined)[];
  private cache: Tree = new Map();
  private cached = 0;

  /** `keyAttributes`: attribute keys whose values join the operation (`key_attributes`). */
  constructor(private readonly keyAttributes: readonly string[] = []) {
    this.extra = keyAttributes.length;
    this.wanted = [...HTTP_KEYS, ...keyAttributes].map(enc);
    this.values = new Array<string | undefined>(this.wanted.length);
  }

  /** The operation of `span`'s key (its name unless the conventions or `key_attributes` add to it). */
  operation(bytes: Uint8Array, span: SpanRef): string {
    const name = span.name;
    const method = name.length <= LONGEST_METHOD_NAME ? METHOD_NAMES.get(name) : undefined;
    if (method === undefined && this.extra === 0) return name;
    const v = this.values;
    v.fill(undefined);
    const from = method === undefined ? HTTP_KEYS.length : 0;
    readAttributes(bytes, span.start, span.end, this.wanted, from, v);
    let target: string | undefined;
    if (method !== undefined) {
      if (span.kind === SERVER) target = v[HTTP_ROUTE];
      else if (span.kind === CLIENT) {
        target = v[URL_TEMPLATE] ?? v[SERVER_ADDRESS] ?? v[NET_PEER_NAME];
      }
    }
    // The cache: name -> target -> each key attribute's value -> the operation formed.
    let node = this.child(this.cache, name);
    let part: Part = target ?? ABSENT;
    for (let k = 0; k < this.extra; k++) {
      node = this.child(node, part);
      part = v[HTTP_KEYS.length + k] ?? ABSENT;
    }
    const found = node.get(part);
    if (typeof found === 'string') return found;
    const formed = this.form(method, target, name, v);
    if (++this.cached > CACHE_MAX) {
      this.cache = new Map();
      this.cached = 0;
    } else {
      node.set(part, formed);
    }
    return formed;
  }

  private child(node: Tree, part: Part): Tree {
    let next = node.get(part);
    if (next === undefined || typeof next === 'string') node.set(part, (next = new Map()));
    return next;
  }

  private form(
    method: string | undefined,
    target: string | undefined,
    name: string,
    v: readonly (string | undefined)[],
  ): string {
    let op = method !== undefined && target !== undefined ? `${method} ${target}` : name;
    const extras: string[] = [];
    for (let k = 0; k < this.extra; k++) {
      const value = v[HTTP_KEYS.length + k];
      if (value !== undefined) extras.push(`${this.keyAttributes[k]!}=${value}`);
    }
    if (extras.length > 0) op = `${op} [${extras.join(', ')}]`;
    return boundText(op, MAX_NAME_BYTES);
  }
}

/**
 * The values of the `wanted` keys (from index `from` on) among a span's attributes, as text:
 * strings (bounded), ints, doubles and booleans; other kinds (arrays, maps, bytes) are skipped.
 */
function readAttributes(
  b: Uint8Array,
  start: number,
  end: number,
  wanted: readonly Uint8Array[],
  from: number,
  out: (string | undefined)[],
): void {
  const kv = [-1, -1, -1, -1];
  forEachAttribute(b, start, end, (kvStart, kvEnd) => {
    keyValueAt(b, kvStart, kvEnd, kv);
    if (kv[0]! < 0 || kv[2]! < 0) return;
    const which = indexOfKey(b, kv[0]!, kv[1]! - kv[0]!, wanted, from);
    if (which < 0) return;
    const text = anyValueText(b, kv[2]!, kv[3]!);
    if (text !== undefined && text !== '') out[which] = text;
  });
}

function indexOfKey(
  b: Uint8Array,
  at: number,
  len: number,
  wanted: readonly Uint8Array[],
  from: number,
): number {
  next: for (let k = from; k < wanted.length; k++) {
    const w = wanted[k]!;
    if (w.length !== len) continue;
    for (let i = 0; i < len; i++) if (b[at + i] !== w[i]) continue next;
    return k;
  }
  return -1;
}

/** AnyValue {string, bool, int, double}, as text; undefined for other kinds. */
function anyValueText(b: Uint8Array, start: number, end: number): string | undefined {
  const r = new FieldReader(b, start, end);
  let text: string | undefined;
  while (r.next()) {
    const field = r.field;
    const wire = r.wire;
    if (field === ANY_VALUE.string_value && wire === WIRE_LEN) {
      text = internedString(b, r.value(), r.valueEnd);
    } else if (field === ANY_VALUE.bool_value && wire === WIRE_VARINT) {
      text = r.varint32() !== 0 ? 'true' : 'false';
    } else if (field === ANY_VALUE.int_value && wire === WIRE_VARINT) {
      text = String(r.varint());
    } else if (field === ANY_VALUE.double_value && wire === WIRE_I64) {
      text = String(Buffer.from(b.buffer, b.byteOffset + r.fixed64At(), 8).readDoubleLE(0));
    } else {
      r.skip();
    }
  }
  return text;
}
