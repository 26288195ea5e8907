import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/**
 * A small fleet of services instrumented with the real OpenTelemetry JS SDK, each exporting
 * OTLP/HTTP protobuf to the sidecar, as real services would with OTEL_EXPORTER_OTLP_ENDPOINT.
 * Time is simulated: every span gets explicit start and end times.
 *
 *   frontend  GET /checkout (server)
 *     -> cart      GET /cart (server) -> SELECT carts (client, the database)
 *     -> payments  POST /charge (server) -> POST /v1/authorize (client, the card processor)
 */
export class Fleet {
  private readonly providers: TracerProvider[] = [];
  private readonly tracers: Record<'frontend' | 'cart' | 'payments', Tracer>;

  constructor(endpoint: string) {
    const tracer = (service: string) => {
      const provider = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.4.2' }),
        spanProcessors: [
          new BatchSpanProcessor({
            exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
            maxQueueSize: 100_000,
            maxExportBatchSize: 512,
            scheduledDelayMillis: 3_600_000, // the demo flushes explicitly, once per simulated day
          }),
        ],
      });
      this.providers.push(provider);
      return provider.getTracer('hourglass-demo');
    };
    this.tracers = {
      frontend: tracer('frontend'),
      cart: tracer('cart'),
      payments: tracer('payments'),
    };
  }

  /**
   * One checkout at `startMs`, with the latencies given (ms) for the two leaf calls; the callers
   * take a little longer than their callees, as real ones do.
   */
  checkout(startMs: number, dbMs: number, authorizeMs: number): void {
    const { frontend, cart, payments } = this.tracers;
    const overhead = 3 + (startMs % 7);
    const cartMs = dbMs + 4;
    const chargeMs = authorizeMs + 6;
    const root = frontend.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: startMs });
    root.setAttribute('http.route', '/checkout');
    const inRoot = trace.setSpan(context.active(), root);

    const cartSpan = cart.startSpan(
      'GET /cart',
      { kind: SpanKind.SERVER, startTime: startMs + 1 },
      inRoot,
    );
    const db = cart.startSpan(
      'SELECT carts',
      { kind: SpanKind.CLIENT, startTime: startMs + 2, attributes: { 'db.system': 'postgresql' } },
      trace.setSpan(context.active(), cartSpan),
    );
    db.end(startMs + 2 + dbMs);
    cartSpan.end(startMs + 1 + cartMs);

    const chargeStart = startMs + 2 + cartMs;
    const charge = payments.startSpan(
      'POST /charge',
      { kind: SpanKind.SERVER, startTime: chargeStart },
      inRoot,
    );
    const authorize = payments.startSpan(
      'POST /v1/authorize',
      {
        kind: SpanKind.CLIENT,
        startTime: chargeStart + 2,
        attributes: { 'server.address': 'psp.example.com' },
      },
      trace.setSpan(context.active(), charge),
    );
    authorize.end(chargeStart + 2 + authorizeMs);
    charge.end(chargeStart + chargeMs);
    root.end(chargeStart + chargeMs + overhead);
  }

  /** Exports everything the services hold and waits until the sidecar has answered. */
  async flush(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.shutdown()));
  }
}
