import { MAX_DEPTH } from './validate.js';
import { WireError } from './wire.js';

/** An OTLP/JSON body holds more values than its size allows (the receiver answers 413). */
export class JsonTooLargeError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/**
 * Bounds the work of parsing an OTLP/JSON body before `JSON.parse` builds anything: one pass
 * over the bytes, no allocation, counting the values (every object, array and element) and the
 * nesting depth outside strings. `JSON.parse` of 20 MB of `{"x":[{},{},...]}` builds 7 million
 * objects (seconds of CPU and a gigabyte of heap, unknown field or not); this pass refuses it in
 * milliseconds. `maxValues` is derived from the body limit, so legitimate requests (a span is tens
 * of values in a kilobyte) stay far below it.
 */
export function checkJsonBounds(body: Uint8Array, maxValues: number): void {
  let values = 1;
  let depth = 0;
  let inString = false;
  const n = body.length;
  for (let i = 0; i < n; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === COMMA) values++;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      values++;
      if (++depth > 2 * MAX_DEPTH + 2) {
        // An AnyValue level is two JSON levels ({"arrayValue":{"values":[...]}}).
        throw new WireError(`JSON nested deeper than ${MAX_DEPTH} message levels`);
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
    else continue;
    if (values > maxValues) {
      throw new JsonTooLargeError(
        `the OTLP/JSON body holds more than ${maxValues} values (at most one per 16 bytes of max_request_body_size); send smaller requests`,
      );
    }
  }
}

/** Values allowed in an OTLP/JSON body of at most `maxBodyBytes`. */
export function maxJsonValues(maxBodyBytes: number): number {
  return Math.max(65_536, Math.floor(maxBodyBytes / 16));
}
