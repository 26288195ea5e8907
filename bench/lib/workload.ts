import { Random } from '../../test/detectors/helpers/random.js';
import { traceRequest, type SpanSpec } from '../../test/detectors/helpers/traces.js';

/**
 * A realistic trace workload for the benchmarks: a fleet of services and operations (server and
 * client spans), HTTP-ish attributes on every span, and requests of 512 spans from a few
 * services each, as SDK batch processors send them.
 */
export interface Workload {
  readonly services: readonly string[];
  readonly operations: readonly string[];
  /**
   * A request of `spans` spans starting around `aroundMs`; `slowShare` of them 10x slower. With
   * `sigma` 0 every span takes its operation's median: nothing can be anomalous. Spans start
   * within `spreadMs` (default a minute) before `aroundMs`.
   */
  request(
    aroundMs: number,
    spans?: number,
    slowShare?: number,
    sigma?: number,
    spreadMs?: number,
  ): Uint8Array;
  /** Spans of the same shape, for learning a baseline. */
  spans(aroundMs: number, n: number): SpanSpec[];
}

export function workload(services = 20, operationsPerService = 10, seed = 7): Workload {
  const r = new Random(seed);
  const serviceNames = Array.from({ length: services }, (_, i) => `service-${i}`);
  const operations = Array.from({ length: operationsPerService }, (_, i) =>
    i % 3 === 2 ? `SELECT table_${i}` : `GET /api/v1/resource-${i}`,
  );
  const median = (op: number) => 5 + op * 17;
  const spans = (
    aroundMs: number,
    n: number,
    slowShare = 0,
    sigma = 0.2,
    spreadMs = 60_000,
  ): SpanSpec[] => {
    // A few services per request, as one SDK exporter (or a collector upstream) sends them.
    const first = Math.floor(r.next() * services);
    return Array.from({ length: n }, (_, i) => {
      const op = Math.floor(r.next() * operationsPerService);
      const slow = r.next() < slowShare ? 10 : 1;
      return {
        service: serviceNames[(first + (i % 4)) % services]!,
        name: operations[op]!,
        kind: op % 3 === 2 ? 3 : 2,
        startMs: aroundMs - Math.floor(r.next() * spreadMs),
        durationMs: Math.round(slow * r.latency(median(op), sigma) * 1000) / 1000,
        attributes: {
          'http.request.method': 'GET',
          'http.route': `/api/v1/resource-${op}`,
          'url.path': `/api/v1/resource-${op}/${Math.floor(r.next() * 1e6)}`,
          'http.response.status_code': '200',
          'server.address': 'api.internal.example.com',
          'network.peer.address': `10.0.${i % 255}.${op}`,
          'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) hourglass-bench',
          'deployment.environment.name': 'production',
        },
      };
    });
  };
  return {
    services: serviceNames,
    operations,
    request: (aroundMs, n = 512, slowShare = 0, sigma = 0.2, spreadMs = 60_000) =>
      traceRequest(spans(aroundMs, n, slowShare, sigma, spreadMs)),
    spans: (aroundMs, n) => spans(aroundMs, n),
  };
}
