import { protoToJson } from '../../../otlp/json-encode.js';

interface JsonRequest {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

/**
 * A forwarded request reduced to its tagged spans, as one OTLP/JSON line (what the `file` exporter
 * writes); undefined when none of its spans was tagged. `severities` are the spans', in order.
 */
export function taggedSpansJson(bytes: Uint8Array, severities: Uint8Array): string | undefined {
  if (!severities.some((s) => s > 0)) return undefined;
  const doc = protoToJson('traces', bytes) as JsonRequest;
  let i = 0;
  const resourceSpans = (doc.resourceSpans ?? []).flatMap((rs) => {
    const scopeSpans = (rs.scopeSpans ?? []).flatMap((ss) => {
      const spans = (ss.spans ?? []).filter(() => severities[i++]! > 0);
      return spans.length > 0 ? [{ ...ss, spans }] : [];
    });
    return scopeSpans.length > 0 ? [{ ...rs, scopeSpans }] : [];
  });
  return JSON.stringify({ resourceSpans });
}
