import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { partsOf, sizeOf, type OtlpBatch, type Signal } from '../../../component/consumer.js';

/**
 * One queued batch per file: a 16-byte header (magic `HGQ1`, items, payload length, CRC-32 of
 * items + length + payload, all little-endian) and the encoded export request. A file is written
 * under a `.tmp` name, fsynced, then renamed, so a `.batch` file is complete unless the disk
 * corrupted it, which the length and checksum detect.
 */

const MAGIC = 0x31514748; // "HGQ1" read as a little-endian uint32
const HEADER_BYTES = 16;
export const BATCH_SUFFIX = '.batch';
export const TMP_SUFFIX = '.tmp';

export function entryName(seq: number): string {
  return String(seq).padStart(16, '0');
}

/** The sequence number of a `.batch` file name, or undefined for any other file. */
export function seqOf(file: string): number | undefined {
  if (!file.endsWith(BATCH_SUFFIX)) return undefined;
  const stem = file.slice(0, -BATCH_SUFFIX.length);
  return /^\d{16}$/.test(stem) ? Number(stem) : undefined;
}

function encodeHeader(items: number, payload: readonly Uint8Array[]): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt32LE(items, 4);
  h.writeUInt32LE(
    payload.reduce((n, p) => n + p.length, 0),
    8,
  );
  let crc = crc32(h.subarray(4, 12));
  for (const part of payload) crc = crc32(part, crc);
  h.writeUInt32LE(crc, 12);
  return h;
}

/** The batch stored in `file`'s bytes, or what is wrong with them. */
export function decodeEntry(signal: Signal, data: Buffer): OtlpBatch | string {
  if (data.length < HEADER_BYTES) return `truncated: ${data.length} bytes, shorter than the header`;
  if (data.readUInt32LE(0) !== MAGIC) return 'not a queue entry (bad magic number)';
  const items = data.readUInt32LE(4);
  const length = data.readUInt32LE(8);
  if (data.length !== HEADER_BYTES + length) {
    return `length mismatch: the header says ${length} payload bytes, the file holds ${data.length - HEADER_BYTES}`;
  }
  const payload = data.subarray(HEADER_BYTES);
  if (crc32(payload, crc32(data.subarray(4, 12))) !== data.readUInt32LE(12)) {
    return 'checksum mismatch';
  }
  return { signal, bytes: payload, items };
}

/** Writes the entry durably: `.tmp`, fsync, rename to `.batch` (the caller fsyncs the directory). */
export async function writeEntry(dir: string, seq: number, batch: OtlpBatch): Promise<void> {
  const tmp = join(dir, entryName(seq) + TMP_SUFFIX);
  const parts = partsOf(batch);
  const header = encodeHeader(batch.items, parts);
  const fh = await open(tmp, 'w');
  try {
    const { bytesWritten } = await fh.writev([header, ...parts]);
    if (bytesWritten !== header.length + sizeOf(batch)) {
      throw new Error(`short write to ${tmp}: ${bytesWritten} bytes`);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, entryName(seq) + BATCH_SUFFIX));
}

/** Makes renames and unlinks in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
