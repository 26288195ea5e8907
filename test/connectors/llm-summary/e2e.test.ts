import { context, SpanKind, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../../src/admin/admin-extension.js';
import type { OtlpReceiver } from '../../../src/receiver/otlp/otlp-receiver.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { useLlmServer, type LlmServer } from '../../helpers/llm-server.js';
import { useSummaryBed, type SummaryBed } from './harness.js';

/**
 * End to end: two services instrumented with the real OpenTelemetry SDK (frontend calls
 * payments) send traces and metrics over OTLP/HTTP to a real sidecar (anomaly processor, Jaeger
 * stand-in, llm_summary, admin API). After a normal period, payments slows down by 500 ms: its
 * span and both frontend spans above it are tagged; one anomaly.summary span must arrive in that
 * trace, naming payments as the origin, with the metrics as measured; the anomaly history shows
 * the summary; an SRE's feedback becomes training data.
 */

class ManualReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

const bed = useSummaryBed();
const server = useLlmServer();
let llm: LlmServer;
beforeEach(() => {
  llm = server();
});

interface Shop {
  readonly frontend: TracerProvider;
  readonly payments: TracerProvider;
  readonly meters: MeterProvider;
  readonly reader: ManualReader;
  readonly metricExporter: OTLPMetricExporter;
  /** One checkout at `t`; payments' own time is `paymentsMs`. Returns the trace and span ids. */
  checkout(
    t: number,
    paymentsMs: number,
  ): { traceId: string; root: string; call: string; pay: string };
  flush(): Promise<void>;
  sendMetrics(): Promise<void>;
  shutdown(): Promise<void>;
}

function shop(url: string): Shop {
  const provider = (service: string) =>
    new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${url}/v1/traces` }),
          maxExportBatchSize: 512,
          maxQueueSize: 10_000,
          scheduledDelayMillis: 3_600_000,
        }),
      ],
    });
  const frontend = provider('frontend');
  const payments = provider('payments');
  const fe: Tracer = frontend.getTracer('shop');
  const pa: Tracer = payments.getTracer('shop');
  const reader = new ManualReader();
  const meters = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'payments' }),
    readers: [reader],
  });
  const meter = meters.getMeter('shop');
  meter
    .createObservableGauge('process.cpu.utilization', { unit: '1' })
    .addCallback((r) => r.observe(0.001));
  meter
    .createObservableGauge('process.memory.usage', { unit: 'By' })
    .addCallback((r) => r.observe(96 * 1024 * 1024));
  const metricExporter = new OTLPMetricExporter({ url: `${url}/v1/metrics` });
  const child = (tracer: Tracer, parent: Span, name: string, kind: SpanKind, start: number) =>
    tracer.startSpan(name, { kind, startTime: hr(start) }, trace.setSpan(context.active(), parent));
  return {
    frontend,
    payments,
    meters,
    reader,
    metricExporter,
    checkout(t, paymentsMs) {
      const root = fe.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: hr(t) });
      root.setAttribute('http.route', '/checkout');
      const call = child(fe, root, 'POST /charge', SpanKind.CLIENT, t + 10);
      const pay = child(pa, call, 'POST /charge', SpanKind.SERVER, t + 12);
      pay.setAttribute('http.route', '/charge');
      const db = child(pa, pay, 'SELECT payments', SpanKind.CLIENT, t + 14);
      db.end(hr(t + 14 + 20));
      pay.end(hr(t + 12 + 20 + paymentsMs));
      call.end(hr(t + 12 + 20 + paymentsMs + 4));
      root.end(hr(t + 12 + 20 + paymentsMs + 4 + 6));
      const ids = (s: Span) => s.spanContext().spanId;
      return {
        traceId: root.spanContext().traceId,
        root: ids(root),
        call: ids(call),
        pay: ids(pay),
      };
    },
    async flush() {
      await payments.forceFlush(); // the callee's spans usually arrive first
      await frontend.forceFlush();
    },
    async sendMetrics() {
      const { resourceMetrics } = await reader.collect();
      const result = await new Promise<{ code: number }>((resolve) =>
        metricExporter.export(resourceMetrics, resolve),
      );
      expect(result.code).toBe(0);
    },
    async shutdown() {
      await Promise.all([
        frontend.shutdown(),
        payments.shutdown(),
        meters.shutdown(),
        metricExporter.shutdown(),
      ]);
    },
  };
}

async function scenario(summary: Record<string, unknown>) {
  // The SDK stamps metrics with the real time: the traffic is placed just before it (the
  // baselines fall back to the hour-of-day, day or global level when it spans an hour or a day).
  const now = Date.now();
  const start = now - 45 * 60_000;
  const clock = new FakeClock(now);
  const b: SummaryBed = await bed(
    { min_severity: 'SEV3', trace_window: '5s', batch: { timeout: '30s' }, ...summary },
    {
      clock,
      processors: (dir) => ({ anomaly: { storage: join(dir, 'hourglass.db') } }),
      extensions: { admin: { endpoint: '127.0.0.1:0', jaeger_ui_url: 'http://jaeger:16686' } },
    },
  );
  const receiver = b.sidecar.service.find<OtlpReceiver>('receiver', 'otlp')!;
  const s = shop(`http://${receiver.addresses().http!}`);
  // 40 normal checkouts, a minute apart: payments' span takes 30-40 ms (10-20 ms of its own),
  // the checkout 40-50 ms.
  for (let i = 0; i < 40; i++) s.checkout(start + i * 60_000, 10 + ((i * 7) % 11));
  await s.flush();
  await b.sink.waitFor(160);
  await s.sendMetrics();
  // The incident: payments takes 500 ms longer, over 10x the median of each of the three keys
  // (a key of 40 spans, without a shape, tags no less extreme span SEV3: README, "Cold start").
  const slow = s.checkout(now - 30_000, 530);
  await s.flush();
  await b.sink.waitFor(164);
  clock.advance(5_000); // the trace window
  clock.advance(30_000); // the batch
  await b.sink.waitFor(165);
  await b.engine.idle();
  const admin = `http://${b.sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
  return { b, s, slow, admin };
}

describe('anomaly summaries end to end, through the OpenTelemetry SDK', () => {
  it.each(['builtin', 'ollama'] as const)(
    'a slowdown in payments yields one anomaly.summary in its trace, naming payments (%s)',
    async (provider) => {
      llm.defaultText =
        'payments POST /charge spent about 500 ms more than usual in its own code; CPU was 0.1%, so it is not CPU. Look at what payments waits on.';
      const config =
        provider === 'builtin'
          ? {}
          : { provider: 'ollama', endpoint: llm.url, ollama_api: 'chat', stream: true };
      const { b, s, slow, admin } = await scenario(config);
      try {
        const summaries = b.summaries();
        expect(summaries).toHaveLength(1);
        const [summary] = summaries;
        expect(summary!.traceId).toBe(slow.traceId);
        expect(summary!.parentSpanId).toBe(slow.pay);
        expect(summary!.service).toBe('hourglass');
        expect(summary!.attributes).toMatchObject({
          'anomaly.summary.origin.service': 'payments',
          'anomaly.summary.origin.operation': 'POST /charge',
          'anomaly.summary.origin.span_id': slow.pay,
          // 15x slower than 40 spans of history: an order of magnitude, rarer than anything
          // seen, as rare as those 40 spans can tell (SEV3; SEV1 needs 2,000 spans of history).
          'anomaly.summary.severity': 'SEV3',
          'anomaly.summary.anomalies': '3',
          'anomaly.summary.provider': provider,
        });
        const text = String(summary!.attributes['anomaly.summary.text']);
        if (provider === 'builtin') {
          expect(text).toMatch(/^frontend GET \/checkout \(server\) took 5\d\d\.\d ms/);
          expect(text).toContain(
            'Likely origin: payments POST /charge (server), its own time was 5',
          );
          expect(text).toContain('payments metrics: CPU 0.1%, memory 96.0 MiB.');
        } else {
          expect(text).toBe(llm.defaultText);
          expect(llm.requests).toHaveLength(1);
          const prompt = (llm.requests[0]!.body['messages'] as { content: string }[])[1]!.content;
          expect(prompt).toContain('- payments: CPU 0.1%; memory 96.0 MiB.');
          expect(prompt).toMatch(/3\. payments "POST \/charge" \(server\) .* <- origin/);
        }

        // The anomaly history shows the summary on every anomaly of the trace.
        const history = (await (await fetch(`${admin}/api/v1/anomalies?limit=10`)).json()) as {
          anomalies: { id: string; trace_id: string; service: string; summary: string | null }[];
        };
        const ofTrace = history.anomalies.filter((a) => a.trace_id === slow.traceId);
        expect(ofTrace.map((a) => a.id).sort()).toEqual(
          [slow.root, slow.call, slow.pay].map((id) => `${slow.traceId}-${id}`).sort(),
        );
        for (const a of ofTrace) expect(a.summary).toBe(text);

        // An SRE rates it (on the frontend span they looked at) and corrects it.
        const feedback = await fetch(
          `${admin}/api/v1/anomalies/${slow.traceId}-${slow.root}/feedback`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              rating: 2,
              correction: 'payments waited 500 ms on its card gateway.',
            }),
          },
        );
        expect(feedback.status).toBe(200);
        expect(await feedback.json()).toMatchObject({
          anomaly_id: `${slow.traceId}-${slow.root}`,
          summary_id: `${slow.traceId}-${slow.pay}`,
          exporter: 'llm_summary',
          rating: 2,
          correction: 'payments waited 500 ms on its card gateway.',
        });
        const data = await fetch(`${admin}/api/v1/training-data.jsonl`);
        expect(data.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
        const lines = (await data.text())
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, any>);
        expect(lines).toHaveLength(1);
        const row = lines[0]!;
        expect(row).toMatchObject({
          id: `${slow.traceId}-${slow.pay}`,
          trace_id: slow.traceId,
          provider,
          rating: 2,
          correction: 'payments waited 500 ms on its card gateway.',
          completion: text,
        });
        if (provider === 'ollama') {
          const sent = llm.requests[0]!.body['messages'] as { content: string }[];
          expect(row['system']).toBe(sent[0]!.content);
          expect(row['prompt']).toBe(sent[1]!.content);
        }
        expect(row['messages']).toEqual([
          { role: 'system', content: row['system'] },
          { role: 'user', content: row['prompt'] },
          { role: 'assistant', content: 'payments waited 500 ms on its card gateway.' },
        ]);
      } finally {
        await s.shutdown();
      }
    },
  );
});
