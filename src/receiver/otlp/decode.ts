import type { OtlpBatch, Signal } from '../../component/consumer.js';
import { DecodeError, PayloadTooLargeError } from '../../component/errors.js';
import { checkJsonBounds, JsonTooLargeError } from '../../otlp/json-bounds.js';
import { jsonToProto } from '../../otlp/json-decode.js';
import { rewriteItems } from '../../otlp/rewrite.js';
import { validateRequest } from '../../otlp/validate.js';

export type Encoding = 'proto' | 'json';

export interface Decoded {
  readonly batch: OtlpBatch;
  /** Items dropped because they cannot be forwarded (invalid ids); reported as partial success. */
  readonly rejected: number;
  readonly rejectedReason: string | undefined;
}

const REQUEST_NAME: Record<Signal, string> = {
  traces: 'ExportTraceServiceRequest',
  metrics: 'ExportMetricsServiceRequest',
  logs: 'ExportLogsServiceRequest',
};

/**
 * Turns a request body into the batch the pipeline carries: JSON is converted to protobuf (after
 * a pass that bounds its values and nesting, `jsonMaxValues`), the protobuf is validated once, and
 * items with invalid ids are cut out (and reported) so that one bad span does not cost the rest of
 * the request. With `layout`, a trace request's span layout is recorded on the way
 * (`OtlpBatch.layout`), for a pipeline that reads it.
 */
export function decodeRequest(
  signal: Signal,
  body: Uint8Array,
  encoding: Encoding,
  layout = false,
  jsonMaxValues = Infinity,
): Decoded {
  let bytes: Uint8Array;
  let result;
  try {
    if (encoding === 'json') checkJsonBounds(body, jsonMaxValues);
    bytes = encoding === 'json' ? jsonToProto(signal, utf8Text(body)) : body;
    result = validateRequest(signal, bytes, { layout });
  } catch (err) {
    if (err instanceof JsonTooLargeError) throw new PayloadTooLargeError(err.message);
    if (err instanceof PayloadTooLargeError) throw err;
    throw new DecodeError(
      `cannot decode the ${encoding === 'json' ? 'OTLP/JSON' : 'protobuf'} ${REQUEST_NAME[signal]}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  if (result.rejected.length > 0) {
    const edits = new Map<number, null>();
    for (const r of result.rejected) edits.set(r.start, null);
    bytes = rewriteItems(bytes, edits);
  }
  const rejected = result.rejected.length;
  return {
    batch:
      rejected === 0 && result.layout !== undefined
        ? { signal, bytes, items: result.items, layout: result.layout }
        : { signal, bytes, items: result.items - rejected },
    rejected,
    rejectedReason:
      rejected === 0
        ? undefined
        : `${rejected} ${signal === 'traces' ? 'span(s)' : 'log record(s)'} rejected: ${result.rejectedReason}`,
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8Text(body: Uint8Array): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new Error('the body is not valid UTF-8');
  }
}
