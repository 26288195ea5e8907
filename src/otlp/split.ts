import type { Signal } from './signal.js';
import { validateRequest } from './validate.js';
import { FieldReader } from './field-reader.js';
import { REQUEST_LEVELS } from './fields.js';
import { ProtoWriter, WIRE_LEN } from './wire.js';

const { entry: ENTRY, scope: SCOPE, item: ITEM } = REQUEST_LEVELS;

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
      current.tag(ENTRY, WIRE_LEN).bytes(entry);
      currentItems += items;
      continue;
    }
    for (const piece of splitResource(entry, maxItems)) {
      const n = countItems(signal, piece);
      if (currentItems > 0 && currentItems + n > maxItems) flush();
      current.tag(ENTRY, WIRE_LEN).bytes(piece);
      currentItems += n;
    }
  }
  flush();
  return out;
}

/** Items in one resource entry (encoded as a whole request to reuse the validator's count). */
function countItems(signal: Signal, entry: Uint8Array): number {
  const w = new ProtoWriter(entry.length + 8);
  w.tag(ENTRY, WIRE_LEN).bytes(entry);
  return validateRequest(signal, w.finish()).items;
}

function* topLevelEntries(bytes: Uint8Array): Generator<Uint8Array> {
  const r = new FieldReader(bytes);
  while (r.next()) {
    if (r.isLen(ENTRY)) yield bytes.subarray(r.value(), r.valueEnd);
    else r.skip();
  }
}

interface Field {
  number: number;
  raw: Uint8Array;
  value: Uint8Array | undefined;
}

function fields(bytes: Uint8Array): Field[] {
  const list: Field[] = [];
  const r = new FieldReader(bytes);
  while (r.next()) {
    let value: Uint8Array | undefined;
    if (r.wire === WIRE_LEN) value = bytes.subarray(r.value(), r.valueEnd);
    else r.skip();
    list.push({ number: r.field, raw: bytes.subarray(r.fieldStart, r.pos), value });
  }
  return list;
}

/** Cuts one ResourceSpans / ResourceLogs into pieces of at most `maxItems` items. */
function splitResource(entry: Uint8Array, maxItems: number): Uint8Array[] {
  const resourceFields = fields(entry);
  const header = resourceFields.filter((f) => f.number !== SCOPE);
  const pieces: Uint8Array[] = [];
  for (const scope of resourceFields.filter((f) => f.number === SCOPE && f.value)) {
    const scopeFields = fields(scope.value!);
    const scopeHeader = scopeFields.filter((f) => f.number !== ITEM);
    const items = scopeFields.filter((f) => f.number === ITEM);
    for (let i = 0; i < items.length; i += maxItems) {
      const w = new ProtoWriter(entry.length);
      for (const h of header) w.raw(h.raw);
      w.fork();
      for (const h of scopeHeader) w.raw(h.raw);
      for (const item of items.slice(i, i + maxItems)) w.raw(item.raw);
      w.join(SCOPE);
      pieces.push(w.finish());
    }
  }
  return pieces;
}
