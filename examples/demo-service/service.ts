/**
 * A small instrumented "shop" for docker-compose: a checkout service whose requests call a payment
 * service and a database, traced with the real OpenTelemetry JS SDK and exported over OTLP to
 * OTEL_EXPORTER_OTLP_ENDPOINT (hourglass). Latency follows the hour of the day; every
 * DEMO_SLOWDOWN_EVERY_MIN minutes payment gets 8x slower for a minute, which hourglass tags once it
 * has learned the baseline (seed it with `hourglass backfill` or let it learn for a while).
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

const endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? 'http://localhost:4318';
const rate = Number(process.env['DEMO_REQUESTS_PER_SECOND'] ?? 20);
const slowdownEvery = Number(process.env['DEMO_SLOWDOWN_EVERY_MIN'] ?? 15);

function provider(service: string): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'deployment.environment.name': 'demo',
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
      }),
    ],
  });
}

const checkout = provider('checkout').getTracer('demo-shop');
const payment = provider('payment').getTracer('demo-shop');

/** Log-normal-ish latency around `median` ms, slower at the busiest hours. */
function latency(median: number): number {
  const hour = new Date().getUTCHours();
  const busy = hour >= 8 && hour <= 18 ? 1.6 : 1;
  const noise = Math.exp((Math.random() + Math.random() + Math.random() - 1.5) * 0.5);
  return median * busy * noise;
}

function slowdown(): number {
  return new Date().getUTCMinutes() % slowdownEvery === 0 ? 8 : 1;
}

function handle(): void {
  const start = Date.now();
  const server = checkout.startSpan('POST /api/checkout', {
    kind: SpanKind.SERVER,
    startTime: start,
    attributes: { 'http.request.method': 'POST', 'http.route': '/api/checkout' },
  });
  const ctx = trace.setSpan(context.active(), server);
  const db = checkout.startSpan(
    'SELECT cart',
    { kind: SpanKind.CLIENT, startTime: start + 1, attributes: { 'db.system.name': 'postgresql' } },
    ctx,
  );
  const dbMs = latency(4);
  db.end(start + 1 + dbMs);
  const payStart = start + 2 + dbMs;
  const call = checkout.startSpan(
    'POST /charge',
    { kind: SpanKind.CLIENT, startTime: payStart },
    ctx,
  );
  const payMs = latency(30) * slowdown();
  const charge = payment.startSpan(
    'POST /charge',
    { kind: SpanKind.SERVER, startTime: payStart + 1 },
    trace.setSpan(ctx, call),
  );
  if (Math.random() < 0.01)
    charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
  charge.end(payStart + 1 + payMs);
  call.end(payStart + 2 + payMs);
  server.end(payStart + 4 + payMs);
}

setInterval(handle, 1000 / rate);
process.stdout.write(
  `demo shop: ${rate} requests/s to ${endpoint}, payment 8x slower one minute in ${slowdownEvery}\n`,
);
