import { readFileSync } from 'node:fs';
import { jsonToProto } from '../../../otlp/json-decode.js';

/**
 * Reads OTLP/JSON trace data for backfill: a file holding one ExportTraceServiceRequest (or
 * TracesData: the same shape), a JSON array of them, JSON lines with one per line (what the `file`
 * exporter writes), or a saved Jaeger `/api/v3/traces` answer (`{"result": {...}}`). Returns the
 * requests in protobuf form; errors name the file and line.
 */
export function readOtlpJsonFile(path: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) return toRequests(whole, path);
  const out: Uint8Array[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (err) {
      throw new Error(
        `${path}:${i + 1}: not JSON (${err instanceof Error ? err.message : String(err)}); expected OTLP/JSON, one request per line`,
      );
    }
    // One by one: push(...list) passes each request as an argument, and a line holding an array
    // of more than ~125,000 requests overflowed the stack.
    for (const request of toRequests(doc, `${path}:${i + 1}`)) out.push(request);
  }
  return out;
}

/** OTLP/JSON trace documents in any of the accepted wrappings, as protobuf requests. */
export function toRequests(doc: unknown, where: string): Uint8Array[] {
  if (Array.isArray(doc)) return doc.flatMap((d, i) => toRequests(d, `${where}[${i}]`));
  if (doc === null || typeof doc !== 'object') {
    throw new Error(`${where}: expected an OTLP/JSON object with "resourceSpans"`);
  }
  const obj = doc as Record<string, unknown>;
  if ('result' in obj) return toRequests(obj['result'], `${where}.result`);
  if (!('resourceSpans' in obj) && !('resource_spans' in obj)) {
    throw new Error(`${where}: expected an OTLP/JSON object with "resourceSpans"`);
  }
  try {
    return [jsonToProto('traces', JSON.stringify(obj))];
  } catch (err) {
    throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
