/**
 * Names kept in memory or on disk (service and span names, attribute values in keys) are bounded
 * in length: nothing a client sends may grow what hourglass holds without limit. A longer text is
 * cut at a UTF-8 character boundary at or below MAX_NAME_BYTES and marked with TRUNCATED.
 */
export const MAX_NAME_BYTES = 256;
const TRUNCATED = '…';
/** The most a bounded text takes: MAX_NAME_BYTES and the marker (3 bytes in UTF-8). */
export const MAX_BOUNDED_BYTES = MAX_NAME_BYTES + 3;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The end of the longest prefix of `b[start, end)` of at most `max` bytes that ends on a character. */
function utf8Cut(b: Uint8Array, start: number, end: number, max: number): number {
  if (end - start <= max) return end;
  let cut = start + max;
  // Back off continuation bytes (10xxxxxx): the cut falls before the character they belong to.
  while (cut > start && (b[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}

/** `b[start, end)` as text, cut (and marked) beyond `max` bytes: at most `max` bytes are decoded. */
export function decodeBounded(
  b: Uint8Array,
  start: number,
  end: number,
  max = MAX_NAME_BYTES,
): string {
  if (end - start <= max) return decoder.decode(b.subarray(start, end));
  return decoder.decode(b.subarray(start, utf8Cut(b, start, end, max))) + TRUNCATED;
}

/** `s` itself when it fits in `max` UTF-8 bytes, else its longest fitting prefix, marked. */
export function boundText(s: string, max = MAX_NAME_BYTES): string {
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: most names need no encoding to be judged.
  if (s.length * 3 <= max) return s;
  // And at least 1: a longer string is cut within its first `max` code units (never all encoded).
  const head = s.length > max ? s.slice(0, max) : s;
  const bytes = encoder.encode(head);
  if (head === s && bytes.length <= max) return s;
  return decoder.decode(bytes.subarray(0, utf8Cut(bytes, 0, bytes.length, max))) + TRUNCATED;
}
