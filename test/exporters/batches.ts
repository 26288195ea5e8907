import { randomBytes } from 'node:crypto';
import { batchOf, type OtlpBatch } from '../../src/component/consumer.js';
import { jsonToProto } from '../../src/otlp/json-decode.js';

/**
 * Test data: encoded OTLP export requests with known ids, built from OTLP/JSON by the project's own
 * codec (the same bytes a protobuf client sends), so tests can check exactly what arrives.
 */

export interface SpanSpec {
  readonly spanId?: string;
  readonly name?: string;
  readonly durationMs?: number;
  readonly attributes?: Record<string, string | number | boolean>;
  readonly statusCode?: number;
}

const START_NS = 1_767_571_200_000_000_000n; // 2026-01-05T00:00:00Z

/** A random 8-byte span id in hex. */
export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

/** A trace batch with one span per spec (or `n` spans with fresh ids), from one service. */
export function traceBatch(spans: number | readonly SpanSpec[], service = 'checkout'): OtlpBatch {
  const specs: readonly SpanSpec[] =
    typeof spans === 'number' ? Array.from({ length: spans }, () => ({})) : spans;
  const traceId = randomBytes(16).toString('hex');
  const json = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: specs.map((s, i) => {
              const start = START_NS + BigInt(i) * 1_000_000n;
              return {
                traceId,
                spanId: s.spanId ?? newSpanId(),
                name: s.name ?? `GET /item/${i}`,
                kind: 2,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + BigInt(Math.round((s.durationMs ?? 12) * 1e6))),
                attributes: Object.entries(s.attributes ?? {}).map(([key, v]) => ({
                  key,
                  value:
                    typeof v === 'string'
                      ? { stringValue: v }
                      : typeof v === 'boolean'
                        ? { boolValue: v }
                        : Number.isInteger(v)
                          ? { intValue: String(v) }
                          : { doubleValue: v },
                })),
                status: s.statusCode ? { code: s.statusCode } : undefined,
              };
            }),
          },
        ],
      },
    ],
  };
  const batch = batchOf('traces', jsonToProto('traces', JSON.stringify(json)), specs.length);
  madeIds.set(
    batch.bytes,
    json.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.spanId),
  );
  return batch;
}

/** A metrics batch with `points` gauge data points in one metric. */
export function metricsBatch(points: number, name = 'queue.depth'): OtlpBatch {
  const json = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name,
                unit: '1',
                gauge: {
                  dataPoints: Array.from({ length: points }, (_, i) => ({
                    timeUnixNano: String(START_NS + BigInt(i)),
                    asInt: String(i),
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return batchOf('metrics', jsonToProto('metrics', JSON.stringify(json)), points);
}

/** A logs batch with `records` log records. */
export function logsBatch(records: number): OtlpBatch {
  const json = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeLogs: [
          {
            logRecords: Array.from({ length: records }, (_, i) => ({
              timeUnixNano: String(START_NS + BigInt(i)),
              severityNumber: 9,
              severityText: 'INFO',
              body: { stringValue: `order ${i} placed` },
            })),
          },
        ],
      },
    ],
  };
  return batchOf('logs', jsonToProto('logs', JSON.stringify(json)), records);
}

/** The span ids (hex) in a trace batch made by `traceBatch`, in order. */
export function spanIdsOf(batch: OtlpBatch): string[] {
  const ids = madeIds.get(batch.bytes);
  if (!ids) throw new Error('spanIdsOf only reads batches made by traceBatch');
  return ids;
}

const madeIds = new WeakMap<Uint8Array, string[]>();
