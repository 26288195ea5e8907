import { FieldReader } from '../../otlp/field-reader.js';
import { WIRE_VARINT } from '../../otlp/wire.js';

export interface PartialSuccess {
  readonly rejected: number;
  readonly message: string;
}

const NONE: PartialSuccess = Object.freeze({ rejected: 0, message: '' });
const decoder = new TextDecoder();
// The responses' field numbers (their messages are not among the request tables of spec.ts).
const PARTIAL_SUCCESS = 1;
const REJECTED = 1;
const ERROR_MESSAGE = 2;

/**
 * `partial_success` of an Export{Trace,Metrics,Logs}ServiceResponse. The three responses share
 * one layout (partial_success = 1 { rejected_<items> = 1, error_message = 2 }), so one reader
 * serves all signals. An empty or unreadable response means full success.
 */
export function decodePartialSuccess(bytes: Uint8Array): PartialSuccess {
  try {
    const r = new FieldReader(bytes);
    while (r.next()) {
      if (r.isLen(PARTIAL_SUCCESS)) return readPartial(bytes, r.value(), r.valueEnd);
      r.skip();
    }
  } catch {
    // A response we cannot read does not undo the success the status code reported.
  }
  return NONE;
}

function readPartial(b: Uint8Array, start: number, end: number): PartialSuccess {
  let rejected = 0;
  let message = '';
  const r = new FieldReader(b, start, end);
  while (r.next()) {
    if (r.field === REJECTED && r.wire === WIRE_VARINT) rejected = r.varint();
    else if (r.isLen(ERROR_MESSAGE)) message = decoder.decode(b.subarray(r.value(), r.valueEnd));
    else r.skip();
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
