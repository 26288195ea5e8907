const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of `len` bytes at `at` (trace and span ids, as OTLP JSON and Jaeger write them). */
export function hexAt(b: Uint8Array, at: number, len: number): string {
  if (at < 0) return '';
  let s = '';
  for (let i = at; i < at + len; i++) s += HEX[b[i]!];
  return s;
}
