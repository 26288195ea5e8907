import { otlpTypes } from '../../../src/otlp/proto.js';

/** 2026-01-12 00:00 UTC, a Monday: where the tests' weeks start. */
export const MONDAY = Date.UTC(2026, 0, 12);
const HOUR = 3_600_000;

/** `n` calls of `GET /cart` of 90 to 110 ms, one a minute from Monday 09:00 (one bucket). */
export function cartAtNine(n: number, extra: Partial<SpanSpec> = {}): SpanSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: 'GET /cart',
    startMs: MONDAY + 9 * HOUR + i * 60_000,
    durationMs: 90 + (i % 21),
    ...extra,
  }));
}

/**
 * 2,000 calls of `GET /cart` like those of `cartAtNine`, one a second from Sunday 03:00 (another
 * bucket): with them, history enough for a single slow span to be SEV1 (a key claims a rarity at
 * most two decades beyond the spans it has seen; 40 spans alone give SEV3).
 */
export function cartDayBefore(): SpanSpec[] {
  return Array.from({ length: 2000 }, (_, i) => ({
    name: 'GET /cart',
    startMs: MONDAY - 21 * HOUR + i * 1000,
    durationMs: 90 + (i % 21),
  }));
}

/** A span to encode, with explicit times (ms since the epoch, fractional allowed). */
export interface SpanSpec {
  readonly service?: string;
  readonly name: string;
  /** SpanKind: 1 internal, 2 server (default), 3 client. */
  readonly kind?: number;
  readonly startMs: number;
  readonly durationMs: number;
  /** Status code: 0 unset (default), 1 ok, 2 error. */
  readonly status?: number;
  readonly traceId?: string;
  readonly spanId?: string;
  /** The parent span's id (hex); none for a root span. */
  readonly parentSpanId?: string;
  readonly attributes?: Record<string, string | number | boolean>;
  /** Status message (with `status`). */
  readonly statusMessage?: string;
  /** Span events, e.g. `{ name: 'exception', attributes: { 'exception.type': 'IOError' } }`. */
  readonly events?: readonly {
    name: string;
    attributes?: Record<string, string | number | boolean>;
  }[];
}

let counter = 0;
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
/** A duration in ms as it travels in OTLP: whole nanoseconds. */
export const wholeNanos = (ms: number) => Math.round(ms * 1e6) / 1e6;

/** ms (fractional) to nanoseconds, exact for the integral and fractional parts separately. */
const nanos = (ms: number) => {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
};

function anyValue(v: string | number | boolean): Record<string, unknown> {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
}

/** An encoded ExportTraceServiceRequest with one resource per service, as an SDK sends it. */
export function traceRequest(spans: readonly SpanSpec[]): Uint8Array {
  const byService = new Map<string, SpanSpec[]>();
  for (const s of spans) {
    const service = s.service ?? 'checkout';
    byService.set(service, [...(byService.get(service) ?? []), s]);
  }
  const { traceRequest: type } = otlpTypes();
  const message = type.fromObject({
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: {
        attributes: [{ key: 'service.name', value: { stringValue: service } }],
      },
      scopeSpans: [
        {
          scope: { name: 'test' },
          spans: list.map((s) => {
            const n = ++counter;
            return {
              traceId: Buffer.from(s.traceId ?? hex(n, 16), 'hex'),
              spanId: Buffer.from(s.spanId ?? hex(n, 8), 'hex'),
              ...(s.parentSpanId ? { parentSpanId: Buffer.from(s.parentSpanId, 'hex') } : {}),
              name: s.name,
              kind: s.kind ?? 2,
              startTimeUnixNano: nanos(s.startMs).toString(),
              endTimeUnixNano: (nanos(s.startMs) + nanos(s.durationMs)).toString(),
              attributes: Object.entries(s.attributes ?? {}).map(([key, v]) => ({
                key,
                value: anyValue(v),
              })),
              status: s.status ? { code: s.status, message: s.statusMessage } : undefined,
              events: (s.events ?? []).map((e) => ({
                timeUnixNano: nanos(s.startMs).toString(),
                name: e.name,
                attributes: Object.entries(e.attributes ?? {}).map(([key, v]) => ({
                  key,
                  value: anyValue(v),
                })),
              })),
            };
          }),
        },
      ],
    })),
  });
  return type.encode(message).finish();
}

export interface DecodedSpan {
  readonly service: string;
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes: Record<string, string | number | boolean>;
  /** Attribute keys in wire order (to check nothing was lost or reordered). */
  readonly attributeKeys: string[];
}

interface AnyValueObject {
  stringValue?: string;
  intValue?: number;
  doubleValue?: number;
  boolValue?: boolean;
}

/** Decodes a trace request with the protobufjs reference types (independent of the fast paths). */
export function decodeSpans(bytes: Uint8Array): DecodedSpan[] {
  const { traceRequest: type } = otlpTypes();
  const obj = type.toObject(type.decode(bytes), { longs: Number, bytes: String }) as {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: AnyValueObject }[] };
      scopeSpans?: {
        spans?: {
          name?: string;
          kind?: number;
          traceId: string;
          spanId: string;
          startTimeUnixNano: number;
          endTimeUnixNano: number;
          attributes?: { key: string; value: AnyValueObject }[];
        }[];
      }[];
    }[];
  };
  const out: DecodedSpan[] = [];
  for (const rs of obj.resourceSpans ?? []) {
    const service =
      rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const attributes: Record<string, string | number | boolean> = {};
        for (const a of s.attributes ?? []) {
          const v = a.value;
          attributes[a.key] = v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? '';
        }
        out.push({
          service,
          name: s.name ?? '',
          kind: s.kind ?? 0,
          traceId: Buffer.from(s.traceId, 'base64').toString('hex'),
          spanId: Buffer.from(s.spanId, 'base64').toString('hex'),
          startMs: s.startTimeUnixNano / 1e6,
          durationMs: (s.endTimeUnixNano - s.startTimeUnixNano) / 1e6,
          attributes,
          attributeKeys: (s.attributes ?? []).map((a) => a.key),
        });
      }
    }
  }
  return out;
}
