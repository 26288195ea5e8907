import { isUtf8 } from 'node:buffer';
import type { Signal } from './signal.js';
import { requestSpecs, type FieldSpec, type MessageSpec } from './spec.js';
import { FieldReader } from './field-reader.js';
import { SPAN as SPAN_FIELD } from './fields.js';
import { SpanLayout } from './span-layout.js';
import { WIRE_LEN, WireError, readUint32, skipField, type Cursor } from './wire.js';

const SPAN = 'opentelemetry.proto.trace.v1.Span';
const LINK = 'opentelemetry.proto.trace.v1.Span.Link';

/** Deepest message nesting accepted (AnyValue inside ArrayValue inside ...); deeper is an attack. */
export const MAX_DEPTH = 64;

/**
 * Items with invalid ids cut out of one request at most; past this the request is refused whole.
 * Each costs a record, and a 20 MiB body holds ten million 2-byte empty spans: without a bound,
 * their records alone would take gigabytes.
 */
export const MAX_REJECTED_ITEMS = 4096;

export interface ValidationResult {
  /** Spans, metric data points or log records in the request, including rejected ones. */
  items: number;
  /**
   * Items (spans, log records) that cannot be forwarded because their ids are invalid, as byte
   * ranges of the item message values; the rest of the request is fine. Empty when all is well.
   */
  rejected: Array<{ start: number; end: number }>;
  /** Why the first rejected item was rejected, for partial_success.error_message. */
  rejectedReason: string | undefined;
  /** Traces, when asked for: where each span's fields lie (see `SpanLayout`). */
  layout: SpanLayout | undefined;
}

export interface ValidateOptions {
  /** Record a `SpanLayout` of a trace request as the walk passes the fields (a few stores a span). */
  readonly layout?: boolean;
}

/**
 * Walks an encoded export request once, checking everything a strict protobuf decoder checks
 * (tags, wire types of known fields, lengths, UTF-8 of strings, nesting depth) without building
 * any object, and counts the items. Unknown fields are skipped, as protobuf requires. Throws
 * `WireError` with a path such as `resource_spans[0].scope_spans[1].spans[3].name: invalid UTF-8`.
 */
export function validateRequest(
  signal: Signal,
  buf: Uint8Array,
  options: ValidateOptions = {},
): ValidationResult {
  const specs = requestSpecs();
  const ctx: WalkContext = {
    layout: options.layout && signal === 'traces' ? new SpanLayout(buf) : undefined,
    items: specs.itemMessages[signal],
    partial: signal !== 'metrics',
    count: 0,
    rejected: [],
    rejectedReason: undefined,
    itemStart: -1,
    itemEnd: -1,
    itemBad: undefined,
    idsSeen: 0,
    cursor: { pos: 0 },
  };
  walk(buf, 0, buf.length, specs.request[signal], 0, ctx);
  return {
    items: ctx.count,
    rejected: ctx.rejected,
    rejectedReason: ctx.rejectedReason,
    layout: ctx.layout,
  };
}

interface WalkContext {
  /** Records, for traces when asked, where detection's fields lie (span-layout.ts). */
  readonly layout: SpanLayout | undefined;
  readonly items: ReadonlySet<MessageSpec>;
  /** Whether a bad item is dropped (traces, logs) or fails the request (metrics). */
  readonly partial: boolean;
  count: number;
  rejected: Array<{ start: number; end: number }>;
  rejectedReason: string | undefined;
  itemStart: number;
  itemEnd: number;
  itemBad: string | undefined;
  /** Bit 1: the current span has a trace_id; bit 2: a span_id. */
  idsSeen: number;
  readonly cursor: Cursor;
}

/** An error found below `field`; the path is completed as the stack unwinds. */
class PathError extends WireError {
  private readonly path: string[] = [];

  constructor(readonly detail: string) {
    super(detail);
  }

  prefix(label: string): void {
    this.path.unshift(label);
    this.message = `${this.path.join('.')}: ${this.detail}`;
  }
}

function walk(
  buf: Uint8Array,
  start: number,
  end: number,
  spec: MessageSpec,
  depth: number,
  ctx: WalkContext,
): void {
  if (depth > MAX_DEPTH) throw new PathError(`messages nested deeper than ${MAX_DEPTH} levels`);
  const cursor = ctx.cursor;
  cursor.pos = start;
  const byNumber = spec.byNumber;
  const layout = ctx.layout;
  // Where this message's fields are recorded, when it is a span and a layout is asked for.
  const at = layout === undefined ? -1 : layout.recordsOf(spec);
  while (cursor.pos < end) {
    const fieldStart = cursor.pos;
    let field: FieldSpec | undefined;
    try {
      const tag = readUint32(buf, cursor, end);
      const number = tag >>> 3;
      const wire = tag & 7;
      if (number === 0) throw new WireError('field number 0 is invalid');
      field = byNumber[number];
      if (field === undefined) {
        skipField(buf, cursor, wire, end);
        continue;
      }
      if (wire !== field.wire) {
        if (field.packable && wire === WIRE_LEN) {
          checkPacked(buf, cursor, end, field);
          continue;
        }
        throw new WireError(`wire type ${wire} does not match the field's type ${field.type}`);
      }
      if (wire !== WIRE_LEN) {
        if (at >= 0) layout!.spanField(at, number, cursor.pos, cursor.pos);
        skipField(buf, cursor, wire, end);
        continue;
      }
      const len = readUint32(buf, cursor, end);
      const valueStart = cursor.pos;
      const valueEnd = valueStart + len;
      if (len > end - valueStart) throw new WireError('length runs past the end of its message');
      switch (field.kind) {
        case 'message': {
          const child = field.message!;
          if (ctx.items.has(child)) {
            walkItem(buf, valueStart, valueEnd, child, depth + 1, ctx);
          } else {
            layout?.enterMessage(spec, number, child, valueStart, valueEnd);
            walk(buf, valueStart, valueEnd, child, depth + 1, ctx);
          }
          break;
        }
        case 'string':
          if (!utf8(buf, valueStart, valueEnd))
            throw new WireError('invalid UTF-8 in a string field');
          break;
        case 'bytes':
          if (field.idBytes !== undefined) checkId(buf, valueStart, len, field, spec, ctx);
          break;
      }
      if (at >= 0) layout!.spanField(at, number, valueStart, valueEnd);
      cursor.pos = valueEnd;
    } catch (err) {
      throw withPath(err, buf, start, fieldStart, field);
    }
  }
}

function walkItem(
  buf: Uint8Array,
  start: number,
  end: number,
  spec: MessageSpec,
  depth: number,
  ctx: WalkContext,
): void {
  ctx.count++;
  ctx.itemStart = start;
  ctx.itemEnd = end;
  ctx.itemBad = undefined;
  ctx.idsSeen = 0;
  ctx.layout?.beginItem(spec, start, end);
  walk(buf, start, end, spec, depth, ctx);
  ctx.layout?.endItem();
  if (spec.name === SPAN) {
    if ((ctx.idsSeen & 1) === 0) ctx.itemBad ??= 'trace_id is missing';
    else if ((ctx.idsSeen & 2) === 0) ctx.itemBad ??= 'span_id is missing';
  }
  if (ctx.itemBad !== undefined) {
    if (ctx.rejected.length >= MAX_REJECTED_ITEMS) {
      throw new WireError(
        `more than ${MAX_REJECTED_ITEMS} items with invalid ids (${ctx.rejectedReason}); the request is refused whole`,
      );
    }
    ctx.rejected.push({ start, end });
    ctx.rejectedReason ??= ctx.itemBad;
  }
  ctx.itemStart = -1;
}

/**
 * A packed run of repeated scalars (`bucket_counts`, `explicit_bounds`) must hold whole values:
 * fixed64 and double runs a multiple of 8 bytes, fixed32 and float of 4, varint runs varints that
 * end exactly at its end (none overflowing 64 bits). Strict decoders reject anything else, and
 * one such request in a batch would make the downstream reject the whole batch.
 */
function checkPacked(buf: Uint8Array, cursor: Cursor, end: number, field: FieldSpec): void {
  const len = readUint32(buf, cursor, end);
  const start = cursor.pos;
  if (len > end - start) throw new WireError('length runs past the end of its message');
  const runEnd = start + len;
  const kind = field.kind;
  const size = kind === 'i64' || kind === 'double' ? 8 : kind === 'i32' || kind === 'float' ? 4 : 0;
  if (size > 0) {
    if (len % size !== 0) {
      throw new WireError(
        `packed ${field.type} values take ${len} bytes, not a multiple of ${size}`,
      );
    }
  } else {
    // Varints back to back: each ends at a byte below 0x80, within 10 bytes, the 10th at most 1.
    let run = 0;
    for (let i = start; i < runEnd; i++) {
      const b = buf[i]!;
      if (b >= 0x80) {
        if (++run === 10) throw new WireError('varint longer than 10 bytes');
      } else {
        if (run === 9 && b > 1) throw new WireError('varint overflows 64 bits');
        run = 0;
      }
    }
    if (run !== 0) throw new WireError('truncated varint');
  }
  cursor.pos = runEnd;
}

/** Ids must have their exact length and not be all zero; empty is allowed where the spec allows it. */
function checkId(
  buf: Uint8Array,
  start: number,
  len: number,
  field: FieldSpec,
  parent: MessageSpec,
  ctx: WalkContext,
): void {
  let problem: string | undefined;
  const isSpan = parent.name === SPAN;
  if (isSpan) {
    ctx.idsSeen |=
      field.number === SPAN_FIELD.trace_id ? 1 : field.number === SPAN_FIELD.span_id ? 2 : 0;
  }
  const required = (isSpan && field.name !== 'parent_span_id') || parent.name === LINK;
  if (len === 0) {
    if (required) problem = 'is empty';
  } else if (len !== field.idBytes) {
    problem = `has ${len} bytes, expected ${field.idBytes}`;
  } else {
    let zero = true;
    for (let i = start; i < start + len; i++) if (buf[i] !== 0) zero = false;
    if (zero) problem = 'is all zeroes';
  }
  if (problem === undefined) return;
  if (ctx.partial && ctx.itemStart >= 0) {
    ctx.itemBad ??= `${field.name} ${problem}`;
    return;
  }
  throw new WireError(problem);
}

/** ASCII fast path in JS (most strings), the native check for the rest. */
function utf8(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) return isUtf8(buf.subarray(start, end));
  }
  return true;
}

/** Prefixes the error with `field[index]`, counting earlier occurrences only now that it failed. */
function withPath(
  err: unknown,
  buf: Uint8Array,
  msgStart: number,
  fieldStart: number,
  field: FieldSpec | undefined,
): PathError {
  const e =
    err instanceof PathError
      ? err
      : new PathError(err instanceof Error ? err.message : String(err));
  if (field) {
    let label = field.name;
    // An index says which element failed; a packed scalar run has none (it is one field).
    if (field.repeated && !field.packable) {
      let index = 0;
      const r = new FieldReader(buf, msgStart, fieldStart);
      try {
        while (r.next()) {
          if (r.field === field.number) index++;
          r.skip();
        }
      } catch {
        // The prefix was already walked without error; nothing to add.
      }
      label += `[${index}]`;
    }
    e.prefix(label);
  }
  return e;
}
