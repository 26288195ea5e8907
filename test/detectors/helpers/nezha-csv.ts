import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Random } from './random.js';

/**
 * Traces in the Nezha/TraStrainer CSV (`../shared/datasets/nezha/README.md`): what
 * `hourglass replay` and `npm run bench:real` read, written by tests from a seeded generator.
 */
export interface NezhaRow {
  trace: string;
  span: string;
  parent: string;
  pod: string;
  op: string;
  startMs: number;
  durationMs: number;
}

/** OnlineBoutique's pods as the dataset names them (service, replica-set hash, pod suffix). */
export const CART = 'cartservice-5d8c7b9f6-abcde';
export const CHECKOUT = 'checkoutservice-7f9c8d6b5-xyz12';

export interface TrafficShape {
  /** The pod whose PlaceOrder calls the callee (default checkout). */
  readonly caller?: string;
  /** The pod whose GetCart is called, and slowed by `slow` (default cart). */
  readonly callee?: string;
  /** Between two traces (default a second). */
  readonly everyMs?: number;
}

let ids = 0;
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/**
 * `n` traces from `from`, one every `everyMs`: the caller's PlaceOrder, which calls the callee's
 * GetCart (a client span on the caller, the server span on the callee), and an unrelated caller
 * ListOrders. The callee's work is `slow(t)` times slower at time t.
 */
export function nezhaTraffic(
  from: number,
  n: number,
  r: Random,
  slow = (_t: number) => 1,
  shape: TrafficShape = {},
): NezhaRow[] {
  const { caller = CHECKOUT, callee = CART, everyMs = 1000 } = shape;
  const rows: NezhaRow[] = [];
  for (let i = 0; i < n; i++) {
    const t = from + i * everyMs;
    const trace = hex(++ids, 16);
    const root = hex(++ids, 8);
    const client = hex(++ids, 8);
    const work = r.latency(2, 0.2) * slow(t);
    rows.push(
      {
        trace,
        span: root,
        parent: 'root',
        pod: caller,
        op: 'PlaceOrder',
        startMs: t,
        durationMs: work + 10,
      },
      {
        trace,
        span: client,
        parent: root,
        pod: caller,
        op: 'hipstershop.CartService/GetCart',
        startMs: t + 1,
        durationMs: work + 1,
      },
      {
        trace,
        span: hex(++ids, 8),
        parent: client,
        pod: callee,
        op: 'GetCart',
        startMs: t + 1.5,
        durationMs: work,
      },
      {
        trace: hex(++ids, 16),
        span: hex(++ids, 8),
        parent: 'root',
        pod: caller,
        op: 'ListOrders',
        startMs: t + everyMs / 2,
        durationMs: r.latency(20, 0.2),
      },
    );
  }
  return rows;
}

const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

/** The Nezha/TraStrainer trace CSV; gzipped when the name ends in .gz. */
export function writeNezhaCsv(path: string, rows: readonly NezhaRow[]): string {
  const lines = [
    'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration',
  ];
  for (const r of rows) {
    lines.push(
      [
        r.trace,
        r.span,
        r.parent,
        r.pod,
        r.op,
        nanos(r.startMs),
        nanos(r.startMs + r.durationMs),
        Math.round(r.durationMs * 1000),
      ].join(','),
    );
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(text) : text);
  return path;
}

/** A fault list as the dataset writes it: by hour, the injection's time, pod and type. */
export function writeFaultList(
  path: string,
  faults: readonly { at: number; pod: string; type: string }[],
): string {
  const byHour: Record<string, unknown[]> = {};
  for (const f of faults) {
    const iso = new Date(f.at).toISOString();
    (byHour[iso.slice(11, 13)] ??= []).push({
      inject_time: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`,
      inject_timestamp: String(Math.floor(f.at / 1000)),
      inject_pod: f.pod,
      inject_type: f.type,
    });
  }
  writeFileSync(path, JSON.stringify(byHour));
  return path;
}
