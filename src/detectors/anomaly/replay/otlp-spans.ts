import { protoToJson } from '../../../otlp/json-encode.js';
import { L_END_TIME, L_START_TIME, L_STRIDE, indexFromLayout } from '../../../otlp/trace-index.js';
import { validateRequest } from '../../../otlp/validate.js';
import { readFixed64BigInt } from '../../../otlp/wire.js';
import { readOtlpJsonFile } from '../backfill/otlp-json.js';
import { KeyForm } from '../internal/key-form.js';
import { ID_BYTES, shiftedNs, type SpanTable } from './span-table.js';

/** One request as replay plays it: spans `[first, first + count)` of the table, sent at `at`. */
export interface PlayedRequest {
  /** When it is sent (ms): its last span's end. */
  readonly at: number;
  readonly first: number;
  readonly count: number;
  /** The request as it was exported; undefined: encoded from the table when played. */
  readonly bytes: Uint8Array | undefined;
}

interface JsonResource {
  resource?: { attributes?: { key?: string; value?: { stringValue?: string } }[] };
}

/**
 * Reads OTLP/JSON trace data (what the `file` exporter writes, or any form `hourglass backfill`
 * reads) into the table, request by request, as they were sent: each request keeps its bytes,
 * times moved by `shiftNs`. The pod of a span is its resource's `k8s.pod.name`, else its service;
 * its name in the table, the operation of its key as the processor forms it (`keyForm`).
 */
export function readOtlpSpans(
  path: string,
  into: SpanTable,
  shiftNs = 0n,
  keyForm = new KeyForm([]),
): PlayedRequest[] {
  const out: PlayedRequest[] = [];
  const ids = new Uint8Array(ID_BYTES);
  readOtlpJsonFile(path).forEach((bytes, k) => {
    const where = `${path}: request ${k + 1}`;
    let layout;
    try {
      const v = validateRequest('traces', bytes, { layout: true });
      if (v.rejected.length > 0) throw new Error(v.rejectedReason ?? 'invalid span ids');
      layout = v.layout!;
    } catch (err) {
      throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const d = layout.data;
    if (shiftNs !== 0n) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let s = 0; s < layout.count; s++) {
        for (const f of [L_START_TIME, L_END_TIME]) {
          const p = d[s * L_STRIDE + f]!;
          if (p >= 0)
            view.setBigUint64(p, shiftedNs(readFixed64BigInt(bytes, p), shiftNs, where), true);
        }
      }
    }
    const index = indexFromLayout(layout);
    const json = protoToJson('traces', bytes) as { resourceSpans?: JsonResource[] };
    const pods = (json.resourceSpans ?? []).map((rs) => {
      const a = rs.resource?.attributes?.find((kv) => kv.key === 'k8s.pod.name');
      return a?.value?.stringValue;
    });
    const first = into.count;
    let at = Number.NEGATIVE_INFINITY;
    index.spans.forEach((span, s) => {
      const startAt = d[s * L_STRIDE + L_START_TIME]!;
      const endAt = d[s * L_STRIDE + L_END_TIME]!;
      const start = startAt < 0 ? 0n : readFixed64BigInt(bytes, startAt);
      const end = endAt < 0 ? start : readFixed64BigInt(bytes, endAt);
      ids.fill(0);
      ids.set(bytes.subarray(span.traceIdAt, span.traceIdAt + 16), 0);
      ids.set(bytes.subarray(span.spanIdAt, span.spanIdAt + 8), 16);
      if (span.parentSpanIdAt >= 0) {
        ids.set(bytes.subarray(span.parentSpanIdAt, span.parentSpanIdAt + 8), 24);
      }
      const service = index.resources[span.resource]!.serviceName;
      into.push(start, end, ids, 0, keyForm.operation(bytes, span), span.kind, {
        service,
        pod: pods[span.resource] ?? service,
      });
      at = Math.max(at, Number(end) / 1e6);
    });
    if (index.spans.length > 0) out.push({ at, first, count: index.spans.length, bytes });
  });
  return out;
}
