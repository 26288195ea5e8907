import { decodeBounded } from './bounded-text.js';

const decoder = new TextDecoder();

// Span names repeat: the same few hundred in every request. Decoding each one (and hashing the
// new string again in every Map lookup made with it) was the largest cost of the scan, so short
// names are interned: the bytes are hashed (FNV-1a), compared with the cached ones, and the cached
// string is returned. Bounded: the cache is dropped when it holds INTERN_MAX names. Longer texts
// are decoded each time, at most MAX_NAME_BYTES of them.
const INTERN_MAX = 8192;
const INTERN_MAX_BYTES = 128;
const interned = new Map<number, { bytes: Uint8Array; value: string }[]>();
let internedCount = 0;

/** The UTF-8 text `b[start, end)`, interned when short, cut and marked beyond MAX_NAME_BYTES. */
export function internedString(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len > INTERN_MAX_BYTES) return decodeBounded(b, start, end);
  let h = 0x811c9dc5 ^ len;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 16777619);
  let list = interned.get(h);
  if (list) {
    next: for (const e of list) {
      const eb = e.bytes;
      if (eb.length !== len) continue;
      for (let i = 0; i < len; i++) if (eb[i] !== b[start + i]) continue next;
      return e.value;
    }
  }
  const value = decoder.decode(b.subarray(start, end));
  if (internedCount >= INTERN_MAX) {
    interned.clear();
    internedCount = 0;
    list = undefined;
  }
  if (!list) interned.set(h, (list = []));
  list.push({ bytes: b.slice(start, end), value });
  internedCount++;
  return value;
}
