import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';

/** Realistic resource attributes, as an instrumented service in Kubernetes sends them. */
export function resourceAttributes(service: string): Attributes {
  return {
    'service.name': service,
    'service.version': '1.4.2',
    'service.namespace': 'shop',
    'deployment.environment.name': 'production',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': '2.12.0',
    'host.name': 'ip-10-0-12-34.eu-west-1.compute.internal',
    'k8s.namespace.name': 'shop',
    'k8s.pod.name': `${service}-7d9f8b6c5d-x2k4q`,
    'k8s.deployment.name': service,
    'cloud.provider': 'aws',
    'cloud.region': 'eu-west-1',
  };
}

export interface SpanSpec {
  name?: string;
  kind?: SpanKind;
  /** Start time in ms since the epoch. */
  startMs?: number;
  durationMs?: number;
  attributes?: Attributes;
  error?: boolean;
  /** Links to this many earlier spans of the same batch (with attributes). */
  links?: number;
}

/**
 * Makes finished spans with the real OpenTelemetry JS SDK (TracerProvider, in-memory exporter),
 * with explicit start and end times, so tests control time exactly.
 */
export function makeSpans(service: string, specs: readonly SpanSpec[]): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resourceAttributes(service)),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('hourglass-test', '1.0.0');
  const base = Date.now();
  const earlier: ReturnType<typeof tracer.startSpan>[] = [];
  for (const s of specs) {
    const start = s.startMs ?? base;
    const span = tracer.startSpan(s.name ?? 'GET /api/cart', {
      kind: s.kind ?? SpanKind.SERVER,
      startTime: start,
      attributes: s.attributes ?? httpAttributes(),
      links: Array.from({ length: s.links ?? 0 }, (_, i) => ({
        context: (earlier[i] ?? tracer.startSpan('linked')).spanContext(),
        attributes: { 'link.reason': 'retry-of' },
      })),
    });
    earlier.push(span);
    span.addEvent('cache.miss', { 'cache.key': 'cart:42' }, start + 1);
    if (s.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
    span.end(start + (s.durationMs ?? 12.5));
  }
  return exporter.getFinishedSpans();
}

export function httpAttributes(): Attributes {
  return {
    'http.request.method': 'GET',
    'http.route': '/api/cart',
    'http.response.status_code': 200,
    'url.path': '/api/cart',
    'url.scheme': 'https',
    'server.address': 'cart.shop.svc.cluster.local',
    'server.port': 8080,
    'network.protocol.version': '1.1',
    'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
    'client.address': '10.0.7.21',
  };
}

/** An encoded ExportTraceServiceRequest of `count` spans, as the SDK's protobuf serializer makes it. */
export function traceRequest(count: number, service = 'cart', spec: SpanSpec = {}): Uint8Array {
  const spans = makeSpans(
    service,
    Array.from({ length: count }, () => spec),
  );
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}
