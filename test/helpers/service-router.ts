import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { otlpTypes } from '../../src/otlp/proto.js';

/** Ring positions, and positions per endpoint, as the Collector's loadbalancing exporter uses. */
const RING_SIZE = 36_000;
const POSITIONS_PER_ENDPOINT = 100;

interface ResourceSpans {
  resource?: { attributes?: { key: string; value?: { stringValue?: string } }[] };
}

/**
 * A stand-in for the OpenTelemetry Collector's `loadbalancing` exporter with
 * `routing_key: service` (the Collector itself cannot be installed here): an OTLP/HTTP protobuf
 * server that splits each export request by the `service.name` of its resources and sends each
 * service's part to the backend a consistent hash ring picks for that name, built as the
 * exporter's `consistent_hashing.go` builds it (100 positions per endpoint, crc32 of the endpoint
 * and one byte of the position's index, on a ring of 36,000; the name's crc32 finds the next one). So every span of a service
 * reaches the same hourglass instance, and adding or removing an instance moves only the services
 * whose ring segment changed hands. It answers 200 only when every part was accepted.
 */
export class ServiceRouter {
  private ring: Ring = [];
  /** service -> the endpoints that received it, in order of first use. */
  readonly routed = new Map<string, Set<string>>();

  private constructor(private readonly server: http.Server) {}

  static async start(endpoints: readonly string[]): Promise<ServiceRouter> {
    const server = http.createServer();
    const router = new ServiceRouter(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      router.handle(req, res).catch(() => {
        res.writeHead(503);
        res.end();
      });
    });
    router.setEndpoints(endpoints);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return router;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Changes the backends (what the exporter's resolver does when instances come or go). */
  setEndpoints(endpoints: readonly string[]): void {
    this.ring = ringOf(endpoints);
  }

  /** The backend of a service: the first ring position at or after the name's. */
  endpointOf(service: string): string {
    return ownerOn(this.ring, service);
  }

  /** The backend a ring of `endpoints` would give a service (to plan a test's services). */
  static endpointOf(endpoints: readonly string[], service: string): string {
    return ownerOn(ringOf(endpoints), service);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const { traceRequest } = otlpTypes();
    const decoded = traceRequest.toObject(traceRequest.decode(Buffer.concat(chunks))) as {
      resourceSpans?: ResourceSpans[];
    };
    const parts = new Map<string, ResourceSpans[]>();
    for (const rs of decoded.resourceSpans ?? []) {
      const service =
        rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '';
      const endpoint = this.endpointOf(service);
      let seen = this.routed.get(service);
      if (!seen) this.routed.set(service, (seen = new Set()));
      seen.add(endpoint);
      parts.set(endpoint, [...(parts.get(endpoint) ?? []), rs]);
    }
    const answers = await Promise.all(
      [...parts].map(async ([endpoint, resourceSpans]) => {
        const body = traceRequest.encode(traceRequest.fromObject({ resourceSpans })).finish();
        const r = await fetch(`http://${endpoint}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body,
        });
        await r.arrayBuffer();
        return r.status;
      }),
    );
    res.writeHead(answers.every((s) => s === 200) ? 200 : 503, {
      'content-type': 'application/x-protobuf',
    });
    res.end();
  }
}

type Ring = { position: number; endpoint: string }[];

function ringOf(endpoints: readonly string[]): Ring {
  const ring: Ring = [];
  const taken = new Set<number>();
  for (const endpoint of endpoints) {
    for (let i = 0; i < POSITIONS_PER_ENDPOINT; i++) {
      // crc32 of the endpoint's bytes and one byte of i; a position taken already is skipped.
      const position = crc32(Buffer.concat([Buffer.from(endpoint), Buffer.from([i])])) % RING_SIZE;
      if (taken.has(position)) continue;
      taken.add(position);
      ring.push({ position, endpoint });
    }
  }
  return ring.sort((a, b) => a.position - b.position);
}

function ownerOn(ring: Ring, service: string): string {
  const at = crc32(service) % RING_SIZE;
  return (ring.find((p) => p.position >= at) ?? ring[0]!).endpoint;
}
