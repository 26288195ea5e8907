import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/**
 * Realistic OTLP payloads, made by the real OpenTelemetry JS SDK serializer: requests of
 * `spansPerRequest` spans from an instrumented web service (server spans with HTTP semantic
 * conventions, client spans to a database and a downstream service, events, a few errors), with
 * the resource attributes a Kubernetes pod reports. Start times are spread over the last hour.
 */
export interface Payloads {
  readonly proto: Uint8Array[];
  readonly json: string[];
  readonly spansPerRequest: number;
  readonly meanProtoBytes: number;
}

const SERVICES = [
  'frontend',
  'cart',
  'checkout',
  'payment',
  'shipping',
  'catalog',
  'recommendation',
  'ads',
];
const ROUTES = [
  '/api/cart',
  '/api/checkout',
  '/api/products/{id}',
  '/api/recommendations',
  '/api/ads',
  '/healthz',
];

export function makePayloads(count: number, spansPerRequest = 512, now = Date.now()): Payloads {
  const proto: Uint8Array[] = [];
  const json: string[] = [];
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let p = 0; p < count; p++) {
    const service = SERVICES[p % SERVICES.length]!;
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': service,
        'service.version': `1.${p % 7}.3`,
        'service.namespace': 'shop',
        'service.instance.id': `${service}-${p}-7d9f8b6c5d-x2k4q`,
        'deployment.environment.name': 'production',
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.version': '2.12.0',
        'host.name': `ip-10-0-${p % 250}-34.eu-west-1.compute.internal`,
        'host.arch': 'amd64',
        'os.type': 'linux',
        'process.pid': 1234 + p,
        'process.runtime.name': 'nodejs',
        'process.runtime.version': '20.19.0',
        'k8s.namespace.name': 'shop',
        'k8s.pod.name': `${service}-7d9f8b6c5d-x2k4q`,
        'k8s.deployment.name': service,
        'k8s.node.name': `ip-10-0-${p % 250}-34`,
        'cloud.provider': 'aws',
        'cloud.region': 'eu-west-1',
        'cloud.availability_zone': 'eu-west-1b',
      }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('@opentelemetry/instrumentation-http', '0.57.0');
    for (let i = 0; i < spansPerRequest; i++) {
      const route = ROUTES[Math.floor(rand() * ROUTES.length)]!;
      const start = now - Math.floor(rand() * 3_600_000);
      const kind =
        i % 4 === 0 ? SpanKind.SERVER : i % 4 === 1 ? SpanKind.INTERNAL : SpanKind.CLIENT;
      const isDb = kind === SpanKind.CLIENT && i % 2 === 0;
      const span = tracer.startSpan(
        isDb ? 'SELECT shop.products' : kind === SpanKind.CLIENT ? `GET ${route}` : `GET ${route}`,
        {
          kind,
          startTime: start,
          attributes: isDb
            ? {
                'db.system.name': 'postgresql',
                'db.namespace': 'shop',
                'db.operation.name': 'SELECT',
                'db.collection.name': 'products',
                'db.query.text': 'SELECT id, name, price FROM products WHERE id = $1',
                'server.address': 'postgres.shop.svc.cluster.local',
                'server.port': 5432,
              }
            : {
                'http.request.method': 'GET',
                'http.route': route,
                'http.response.status_code': rand() < 0.02 ? 500 : 200,
                'url.path': route.replace('{id}', String(Math.floor(rand() * 1000))),
                'url.scheme': 'https',
                'server.address': `${service}.shop.svc.cluster.local`,
                'server.port': 8080,
                'network.protocol.version': '1.1',
                'client.address': `10.0.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`,
                'user_agent.original':
                  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
              },
        },
      );
      if (i % 8 === 0) span.addEvent('cache.miss', { 'cache.key': `product:${i}` }, start + 1);
      if (rand() < 0.02)
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
      span.end(start + 2 + rand() * 80);
    }
    const spans = exporter.getFinishedSpans();
    proto.push(ProtobufTraceSerializer.serializeRequest(spans)!);
    json.push(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)!));
  }
  return {
    proto,
    json,
    spansPerRequest,
    meanProtoBytes: proto.reduce((n, b) => n + b.length, 0) / proto.length,
  };
}
