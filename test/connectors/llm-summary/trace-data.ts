import { otlpTypes } from '../../../src/otlp/proto.js';

/**
 * Trace requests for the llm_summary tests: spans with explicit ids, parents and times, and the
 * anomaly attributes exactly as the anomaly processor types them (ints for severity_number and
 * samples, doubles for the numbers, strings for the rest), encoded by the protobufjs reference.
 */
export interface TestSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  /** 1 internal, 2 server (default), 3 client. */
  readonly kind?: number;
  readonly startMs: number;
  readonly durationMs: number;
  readonly status?: { code: number; message?: string };
  readonly attributes?: Record<string, string | number | boolean>;
  readonly anomaly?: TestAnomaly;
}

export interface TestAnomaly {
  readonly severity: number;
  readonly meanMs: number;
  readonly stddevMs: number;
  readonly p99Ms?: number;
  readonly samples?: number;
  readonly window?: string;
}

const LABELS = ['critical', 'major', 'moderate', 'minor', 'low'];

export function anomalyAttributes(a: TestAnomaly, durationMs: number) {
  return [
    str('anomaly.severity', `SEV${a.severity}`),
    { key: 'anomaly.severity_number', value: { intValue: a.severity } },
    str('anomaly.severity_label', LABELS[a.severity - 1]!),
    str('anomaly.detector', 'latency'),
    dbl('anomaly.score', (durationMs - a.meanMs) / a.stddevMs),
    dbl('anomaly.ratio', durationMs / a.meanMs),
    dbl('anomaly.baseline.mean_ms', a.meanMs),
    dbl('anomaly.baseline.stddev_ms', a.stddevMs),
    dbl('anomaly.baseline.p99_ms', a.p99Ms ?? a.meanMs + 2.326 * a.stddevMs),
    { key: 'anomaly.baseline.samples', value: { intValue: a.samples ?? 240 } },
    str('anomaly.baseline.scope', 'dow_hour'),
    str('anomaly.baseline.window', a.window ?? 'Mon 09:00-10:00 UTC'),
  ];
}

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const dbl = (key: string, v: number) => ({ key, value: { doubleValue: v } });

function attribute(key: string, v: string | number | boolean) {
  if (typeof v === 'string') return str(key, v);
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  return Number.isInteger(v) ? { key, value: { intValue: v } } : dbl(key, v);
}

const nanos = (ms: number) => BigInt(Math.round(ms * 1000)) * 1000n;

/** One resource per service, as the SDKs send it. */
export function encodeTrace(spans: readonly TestSpan[]): Uint8Array {
  const byService = new Map<string, TestSpan[]>();
  for (const s of spans) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  const { traceRequest: type } = otlpTypes();
  const message = type.fromObject({
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [str('service.name', service)] },
      scopeSpans: [
        {
          scope: { name: 'test' },
          spans: list.map((s) => ({
            traceId: Buffer.from(s.traceId, 'hex'),
            spanId: Buffer.from(s.spanId, 'hex'),
            parentSpanId: s.parentSpanId ? Buffer.from(s.parentSpanId, 'hex') : undefined,
            name: s.name,
            kind: s.kind ?? 2,
            startTimeUnixNano: nanos(s.startMs).toString(),
            endTimeUnixNano: (nanos(s.startMs) + nanos(s.durationMs)).toString(),
            attributes: [
              ...Object.entries(s.attributes ?? {}).map(([k, v]) => attribute(k, v)),
              ...(s.anomaly ? anomalyAttributes(s.anomaly, s.durationMs) : []),
            ],
            status: s.status,
          })),
        },
      ],
    })),
  });
  return type.encode(message).finish();
}

export const T0 = Date.UTC(2026, 0, 5, 9, 30);
export const traceIdOf = (n: number) => n.toString(16).padStart(32, '0');
export const spanIdOf = (n: number) => n.toString(16).padStart(16, '0');

/**
 * The slow checkout of the tests: frontend GET /checkout (server) -> frontend POST /charge
 * (client) -> payments POST /charge (server) -> payments SELECT (client). `extraMs` is added to
 * the payments server span's own time (the injected slowdown), and so to everything above it.
 */
export function checkoutTrace(
  n: number,
  extraMs: number,
  tag: { frontend?: number; client?: number; payments?: number } = {},
): TestSpan[] {
  const traceId = traceIdOf(n);
  const t = T0 + n * 1000;
  const ids = {
    root: spanIdOf(n * 10 + 1),
    call: spanIdOf(n * 10 + 2),
    pay: spanIdOf(n * 10 + 3),
    db: spanIdOf(n * 10 + 4),
  };
  const anomaly = (severity: number | undefined, meanMs: number): TestAnomaly | undefined =>
    severity === undefined ? undefined : { severity, meanMs, stddevMs: meanMs / 10 };
  return [
    {
      service: 'frontend',
      name: 'GET /checkout',
      traceId,
      spanId: ids.root,
      startMs: t,
      durationMs: 80 + extraMs,
      attributes: { 'http.request.method': 'GET', 'http.route': '/checkout' },
      anomaly: anomaly(tag.frontend, 80),
    },
    {
      service: 'frontend',
      name: 'POST /charge',
      kind: 3,
      traceId,
      spanId: ids.call,
      parentSpanId: ids.root,
      startMs: t + 10,
      durationMs: 60 + extraMs,
      attributes: { 'server.address': 'payments.shop.svc' },
      anomaly: anomaly(tag.client, 60),
    },
    {
      service: 'payments',
      name: 'POST /charge',
      traceId,
      spanId: ids.pay,
      parentSpanId: ids.call,
      startMs: t + 15,
      durationMs: 50 + extraMs,
      attributes: { 'http.route': '/charge' },
      anomaly: anomaly(tag.payments, 50),
    },
    {
      service: 'payments',
      name: 'SELECT payments',
      kind: 3,
      traceId,
      spanId: ids.db,
      parentSpanId: ids.pay,
      startMs: t + 20,
      durationMs: 30,
      attributes: { 'db.system': 'postgresql' },
    },
  ];
}
