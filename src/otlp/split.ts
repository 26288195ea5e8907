import type { Signal } from './signal.js';
import { validateRequest } from './validate.js';
import { ProtoWriter, WIRE_LEN, readVarint32, skipField, type Cursor } from './wire.js';

/**
 * Splits an encoded export request into requests of at most `maxItems` items each (spans, log
 * records; for metrics, whole metrics, so a metric's data points stay together), for the batch
 * processor's `send_batch_max_size`. Top-level entries are kept whole when they fit; a larger
 * entry is cut between scope entries and, for traces and logs, between items, repeating its
 * resource and scope header in each piece.
 */
export function splitRequest(
  signal: Signal,
  bytes: Uint8Array,
  maxItems: number,
): Array<{ bytes: Uint8Array; items: number }> {
  const out: Array<{ bytes: Uint8Array; items: number }> = [];
  let current = new ProtoWriter(Math.min(bytes.length, 1 << 20));
  let currentItems = 0;
  const flush = () => {
    if (currentItems > 0) out.push({ bytes: current.finish(), items: currentItems });
    current = new ProtoWriter(Math.min(bytes.length, 1 << 20));
    currentItems = 0;
  };
  for (const entry of topLevelEntries(bytes)) {
    const items = countItems(signal, entry);
    if (currentItems > 0 && currentItems + items > maxItems) flush();
    if (items <= maxItems || signal === 'metrics') {
      current.tag(1, WIRE_LEN).bytes(entry);
      currentItems += items;
      continue;
    }
    for (const piece of splitResource(entry, maxItems)) {
      const n = countItems(signal, piece);
      if (currentItems > 0 && currentItems + n > maxItems) flush();
      current.tag(1, WIRE_LEN).bytes(piece);
      currentItems += n;
    }
  }
  flush();
  return out;
}

/** Items in one resource entry (encoded as a whole request to reuse the validator's count). */
function countItems(signal: Signal, entry: Uint8Array): number {
  const w = new ProtoWriter(entry.length + 8);
  w.tag(1, WIRE_LEN).bytes(entry);
  return validateRequest(signal, w.finish()).items;
}

function* topLevelEntries(bytes: Uint8Array): Generator<Uint8Array> {
  const c: Cursor = { pos: 0 };
  while (c.pos < bytes.length) {
    const tag = readVarint32(bytes, c, bytes.length);
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const len = readVarint32(bytes, c, bytes.length);
      yield bytes.subarray(c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(bytes, c, tag & 7, bytes.length);
    }
  }
}

interface Field {
  number: number;
  raw: Uint8Array;
  value: Uint8Array | undefined;
}

function fields(bytes: Uint8Array): Field[] {
  const list: Field[] = [];
  const c: Cursor = { pos: 0 };
  while (c.pos < bytes.length) {
    const start = c.pos;
    const tag = readVarint32(bytes, c, bytes.length);
    let value: Uint8Array | undefined;
    if ((tag & 7) === WIRE_LEN) {
      const len = readVarint32(bytes, c, bytes.length);
      value = bytes.subarray(c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(bytes, c, tag & 7, bytes.length);
    }
    list.push({ number: tag >>> 3, raw: bytes.subarray(start, c.pos), value });
  }
  return list;
}

/** Cuts one ResourceSpans / ResourceLogs into pieces of at most `maxItems` items. */
function splitResource(entry: Uint8Array, maxItems: number): Uint8Array[] {
  const resourceFields = fields(entry);
  const header = resourceFields.filter((f) => f.number !== 2);
  const pieces: Uint8Array[] = [];
  for (const scope of resourceFields.filter((f) => f.number === 2 && f.value)) {
    const scopeFields = fields(scope.value!);
    const scopeHeader = scopeFields.filter((f) => f.number !== 2);
    const items = scopeFields.filter((f) => f.number === 2);
    for (let i = 0; i < items.length; i += maxItems) {
      const w = new ProtoWriter(entry.length);
      for (const h of header) w.raw(h.raw);
      w.fork();
      for (const h of scopeHeader) w.raw(h.raw);
      for (const item of items.slice(i, i + maxItems)) w.raw(item.raw);
      w.join(2);
      pieces.push(w.finish());
    }
  }
  return pieces;
}
