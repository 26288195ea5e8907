import { traceRequest, type SpanSpec } from '../../helpers/traces.js';

export const MONDAY = Date.UTC(2026, 0, 12);
export const H = 3_600_000;

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

export interface TraceShape {
  /** The payments server span's duration (default 50..60 ms). */
  readonly paymentsMs?: number;
  /** Time lost between checkout's client span and payments' server span (network delay). */
  readonly edgeMs?: number;
}

/**
 * One checkout request: `checkout POST /checkout` (server) -> `checkout POST /charge` (client)
 * -> `payments POST /charge` (server). Ids are derived from `n` (unique per test).
 */
export function checkoutTrace(n: number, startMs: number, shape: TraceShape = {}): SpanSpec[] {
  const traceId = hex(n, 16);
  const pay = shape.paymentsMs ?? 50 + (n % 11);
  const client = pay + 5 + (shape.edgeMs ?? 0);
  return [
    {
      service: 'payments',
      name: 'POST /charge',
      kind: 2,
      startMs: startMs + 22,
      durationMs: pay,
      traceId,
      spanId: hex(n * 4 + 3, 8),
      parentSpanId: hex(n * 4 + 2, 8),
    },
    {
      service: 'checkout',
      name: 'POST /charge',
      kind: 3,
      startMs: startMs + 20,
      durationMs: client,
      traceId,
      spanId: hex(n * 4 + 2, 8),
      parentSpanId: hex(n * 4 + 1, 8),
    },
    {
      service: 'checkout',
      name: 'POST /checkout',
      kind: 2,
      startMs,
      durationMs: client + 40 + (n % 7),
      traceId,
      spanId: hex(n * 4 + 1, 8),
    },
  ];
}

/** 2,000 normal traces the day before: history enough for SEV1 on every key. */
export function history(first: number): SpanSpec[] {
  return Array.from({ length: 2000 }, (_, i) =>
    checkoutTrace(first + i, MONDAY - 21 * H + i * 1000),
  ).flat();
}

/** One OTLP/HTTP protobuf request to the sidecar's receiver (`otlp`: its base URL), as an SDK sends it. */
export async function postSpans(otlp: string, spans: readonly SpanSpec[]): Promise<void> {
  const res = await fetch(`${otlp}/v1/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf' },
    body: traceRequest(spans),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`the receiver answered ${res.status}`);
}

/** `history(first)` sent in requests of 1,500 spans. */
export async function learnHistory(otlp: string, first: number): Promise<void> {
  const h = history(first);
  for (let i = 0; i < h.length; i += 1500) await postSpans(otlp, h.slice(i, i + 1500));
}
