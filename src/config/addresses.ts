import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { parseHostPort } from './schema.js';

/**
 * What "this host" means for the start-up address checks: its names and its interfaces'
 * addresses, and a bounded name lookup for the rest (`hourglass:4317` in a compose file resolves
 * to the container's own address).
 */
export interface HostIdentity {
  /** Lower-case names of this host. */
  readonly names: ReadonlySet<string>;
  /** Normalized addresses of this host's interfaces. */
  readonly addresses: ReadonlySet<string>;
  /** The addresses a name resolves to; [] when it does not resolve in time. */
  resolve(name: string): Promise<string[]>;
}

const LOOKUP_TIMEOUT_MS = 1000;

export function thisHost(): HostIdentity {
  const names = new Set<string>(['localhost']);
  const own = hostname().toLowerCase();
  if (own) names.add(own).add(own.split('.')[0]!);
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) addresses.add(normalizeHost(a.address));
  }
  return { names, addresses, resolve: boundedLookup };
}

async function boundedLookup(name: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS);
    timer.unref();
  });
  const found = lookup(name, { all: true }).then(
    (list) => list.map((a) => normalizeHost(a.address)),
    () => [],
  );
  try {
    return await Promise.race([found, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lower case, without IPv6 brackets or an IPv4-mapped prefix (`::ffff:127.0.0.1`). */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.startsWith('::ffff:') && isIP(h.slice(7)) === 4) h = h.slice(7);
  return h;
}

/** `0.0.0.0`, `::` or "": every interface. */
export function isWildcard(host: string): boolean {
  const h = normalizeHost(host);
  return h === '' || h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0';
}

function isLoopback(host: string): boolean {
  const h = normalizeHost(host);
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1' ||
    (isIP(h) === 4 && h.startsWith('127.'))
  );
}

/** Whether a host (name or address) is this host, by name, address or (bounded) lookup. */
export async function isThisHost(host: string, identity: HostIdentity): Promise<boolean> {
  const h = normalizeHost(host);
  const local = (a: string) => isLoopback(a) || isWildcard(a) || identity.addresses.has(a);
  if (local(h) || identity.names.has(h)) return true;
  if (isIP(h) !== 0) return false;
  return (await identity.resolve(h)).some(local);
}

/**
 * The host and port an address names: `host:port`, `[::1]:4317`, a gRPC target
 * (`dns:///host:port`, `http(s)://host:port`) or a URL (`http://jaeger:4318/v1/traces`, whose
 * port defaults to 80 or 443).
 */
export function hostAndPort(address: string): { host: string; port: number } | undefined {
  const grpc = /^dns:\/\/[^/]*\/(.*)$/.exec(address);
  if (grpc) return parseHostPort(grpc[1]!);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return undefined;
    }
    const port =
      url.port !== ''
        ? Number(url.port)
        : url.protocol === 'https:'
          ? 443
          : url.protocol === 'http:'
            ? 80
            : NaN;
    if (!Number.isInteger(port)) return undefined;
    return { host: normalizeHost(url.hostname), port };
  }
  const parsed = parseHostPort(address);
  return parsed && { host: normalizeHost(parsed.host), port: parsed.port };
}
