import {
  WIRE_LEN,
  WIRE_VARINT,
  readVarint32,
  readVarintNumber,
  skipField,
} from '../../otlp/wire.js';
import type { Cursor } from '../../otlp/wire.js';

export interface PartialSuccess {
  readonly rejected: number;
  readonly message: string;
}

const NONE: PartialSuccess = Object.freeze({ rejected: 0, message: '' });
const decoder = new TextDecoder();

/**
 * `partial_success` of an Export{Trace,Metrics,Logs}ServiceResponse. The three responses share
 * one layout (partial_success = 1 { rejected_<items> = 1, error_message = 2 }), so one reader
 * serves all signals. An empty or unreadable response means full success.
 */
export function decodePartialSuccess(bytes: Uint8Array): PartialSuccess {
  try {
    const c: Cursor = { pos: 0 };
    while (c.pos < bytes.length) {
      const tag = readVarint32(bytes, c, bytes.length);
      if (tag !== ((1 << 3) | WIRE_LEN)) {
        skipField(bytes, c, tag & 7, bytes.length);
        continue;
      }
      const len = readVarint32(bytes, c, bytes.length);
      return readPartial(bytes, c.pos, c.pos + len);
    }
  } catch {
    // A response we cannot read does not undo the success the status code reported.
  }
  return NONE;
}

function readPartial(b: Uint8Array, start: number, end: number): PartialSuccess {
  let rejected = 0;
  let message = '';
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint32(b, c, end);
    if (tag === ((1 << 3) | WIRE_VARINT)) {
      rejected = readVarintNumber(b, c, end);
    } else if (tag === ((2 << 3) | WIRE_LEN)) {
      const len = readVarint32(b, c, end);
      message = decoder.decode(b.subarray(c.pos, c.pos + len));
      c.pos += len;
    } else {
      skipField(b, c, tag & 7, end);
    }
  }
  return { rejected, message };
}

/** The same from an OTLP/JSON response (`{"partialSuccess":{"rejectedSpans":"2","errorMessage":"..."}}`). */
export function decodePartialSuccessJson(text: string): PartialSuccess {
  try {
    const doc = JSON.parse(text) as { partialSuccess?: Record<string, unknown> } | null;
    const p = doc?.partialSuccess;
    if (!p || typeof p !== 'object') return NONE;
    const count = p['rejectedSpans'] ?? p['rejectedDataPoints'] ?? p['rejectedLogRecords'] ?? 0;
    const rejected = Number(count);
    const message = typeof p['errorMessage'] === 'string' ? p['errorMessage'] : '';
    return Number.isFinite(rejected) && rejected > 0 ? { rejected, message } : NONE;
  } catch {
    return NONE;
  }
}
