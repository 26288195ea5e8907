import { readFileSync } from 'node:fs';
import type net from 'node:net';
import type { Counter, Gauge } from 'prom-client';

/**
 * Connection limits shared by the gRPC and HTTP servers: a cap on open connections (a flood of
 * idle ones would otherwise take every file descriptor and crash the process with EMFILE), and the
 * self-metrics that show what the limits did.
 */

/** The default cap: 4096, or a quarter of the process's open-file limit when that is lower. */
export function defaultMaxConnections(limits = readLimits()): number {
  const m = /^Max open files\s+(\d+)/m.exec(limits ?? '');
  const files = m ? Number(m[1]) : Infinity;
  return Math.max(16, Math.min(4096, Math.floor(files / 4)));
}

function readLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The part of the self-metrics (`SelfMetrics` in telemetry/self-metrics.ts) these metrics are made
 * with: net/ imports nothing of the project (docs/architecture.md).
 */
export interface MetricsRegistry {
  counter(name: string, help: string, labelNames: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames: readonly string[]): Gauge;
}

/** What the connection limits did, per receiver and transport. */
export interface ConnectionMetrics {
  opened(): void;
  closed(): void;
  /** A connection over `max_connections`, closed as it arrived. */
  refused(): void;
  /** A connection closed for being idle (keep-alive, or no call for `max_connection_idle`). */
  idleClosed(): void;
  /** A request whose headers or body did not arrive in time (the connection or stream is cut). */
  timedOut(): void;
}

export function connectionMetrics(
  metrics: MetricsRegistry,
  receiver: string,
  transport: string,
): ConnectionMetrics {
  const labels = { receiver, transport };
  const names = ['receiver', 'transport'];
  const open = metrics.gauge(
    'hourglass_receiver_connections_open',
    'Connections open to the receiver.',
    names,
  );
  const counter = (name: string, help: string) => metrics.counter(name, help, names);
  const refused = counter(
    'hourglass_receiver_connections_refused_total',
    'Connections closed as they arrived because max_connections were open.',
  );
  const idle = counter(
    'hourglass_receiver_connections_idle_closed_total',
    'Connections closed for being idle (idle_timeout, keepalive.server_parameters.max_connection_idle).',
  );
  const timedOut = counter(
    'hourglass_receiver_requests_timed_out_total',
    'Requests cut because their headers or body did not arrive in time (read_header_timeout, read_timeout).',
  );
  // The series exist from the start, so that dashboards show 0 rather than "no data".
  open.inc(labels, 0);
  refused.inc(labels, 0);
  idle.inc(labels, 0);
  timedOut.inc(labels, 0);
  return {
    opened: () => open.inc(labels),
    closed: () => open.dec(labels),
    refused: () => refused.inc(labels),
    idleClosed: () => idle.inc(labels),
    timedOut: () => timedOut.inc(labels),
  };
}

/**
 * The connections a server keeps open, at most `max`. When a new one arrives and all slots are
 * taken, the oldest idle connection makes room for it: first one that never sent a request (a
 * flood of silent connections cannot lock services out), then one idle between requests (its
 * client reconnects when it needs to); connections with a request in progress are never closed
 * for this. Only when every slot is busy is the newcomer closed (refused). Keys are the sockets
 * (HTTP/1) or sessions (HTTP/2) the protocol layer sees.
 */
export class ConnectionSlots<K> {
  private readonly slots = new Map<K, { served: boolean; busy: number; close: () => void }>();

  constructor(
    private readonly max: number,
    private readonly metrics: ConnectionMetrics,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  /** Takes a slot for `key` (`close` ends it); false when refused (the caller closes it). */
  admit(key: K, close: () => void): boolean {
    if (this.slots.size >= this.max && !this.evictIdle()) {
      this.metrics.refused();
      return false;
    }
    this.slots.set(key, { served: false, busy: 0, close });
    this.metrics.opened();
    return true;
  }

  requestStarted(key: K): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    slot.served = true;
    slot.busy++;
  }

  requestEnded(key: K): void {
    const slot = this.slots.get(key);
    if (slot && slot.busy > 0) slot.busy--;
  }

  release(key: K): void {
    if (this.slots.delete(key)) this.metrics.closed();
  }

  private evictIdle(): boolean {
    for (const served of [false, true]) {
      for (const [key, slot] of this.slots) {
        if (slot.busy > 0 || slot.served !== served) continue;
        this.release(key);
        this.metrics.idleClosed();
        slot.close();
        return true;
      }
    }
    return false;
  }
}

/**
 * The TCP-level backstop under `ConnectionSlots`: connections still in their TLS handshake are
 * not in the slots yet; past twice the cap the server closes new ones as they arrive (counted).
 */
export function backstopConnections(
  server: net.Server,
  max: number,
  metrics: ConnectionMetrics,
): void {
  server.maxConnections = 2 * max;
  server.on('drop', () => metrics.refused());
}
