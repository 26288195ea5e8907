/**
 * The load generator, run in its own process (forked by run.ts, pinned to its own core): replays
 * pre-serialized SDK payloads to the sidecar over HTTP/protobuf, HTTP/JSON or gRPC, either
 * closed-loop (a fixed number of requests in flight: saturation) or open-loop at a fixed rate
 * (latency; measured from the scheduled send time, so a stall is not hidden).
 */
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { makePayloads } from './payloads.js';

export interface LoadSpec {
  transport: 'http/protobuf' | 'http/json' | 'grpc';
  /** host:port of the sidecar's HTTP or gRPC receiver. */
  target: string;
  mode: 'closed' | 'open';
  concurrency: number;
  /** Requests per second (open loop). */
  rate: number;
  durationMs: number;
  warmupMs: number;
  spansPerRequest: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  spansOk: number;
  statuses: Record<string, number>;
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

type Send = (i: number) => Promise<string>;

function sender(spec: LoadSpec): { send: Send; close: () => Promise<void> } {
  const payloads = makePayloads(16, spec.spansPerRequest);
  if (spec.transport === 'grpc') {
    const client = new grpc.Client(spec.target, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
    const bodies = payloads.proto.map((b) => Buffer.from(b));
    return {
      send: (i) =>
        new Promise((resolve) =>
          client.makeUnaryRequest(
            '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
            (b: Buffer) => b,
            (b: Buffer) => b,
            bodies[i % bodies.length]!,
            (err) => resolve(err ? `grpc ${grpc.status[err.code]}` : 'ok'),
          ),
        ),
      close: async () => client.close(),
    };
  }
  const json = spec.transport === 'http/json';
  const bodies = json
    ? payloads.json.map((s) => Buffer.from(s))
    : payloads.proto.map((b) => Buffer.from(b));
  const pool = new Pool(`http://${spec.target}`, {
    connections: Math.max(spec.concurrency, 8),
    pipelining: 1,
  });
  const headers = { 'content-type': json ? 'application/json' : 'application/x-protobuf' };
  return {
    send: async (i) => {
      const res = await pool.request({
        path: '/v1/traces',
        method: 'POST',
        headers,
        body: bodies[i % bodies.length]!,
      });
      await res.body.arrayBuffer();
      return res.statusCode === 200 ? 'ok' : `http ${res.statusCode}`;
    },
    close: () => pool.close(),
  };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { send, close } = sender(spec);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let requests = 0;
  let ok = 0;
  let counter = 0;
  const begin = performance.now();
  const measureFrom = begin + spec.warmupMs;
  const end = measureFrom + spec.durationMs;

  const record = (scheduled: number, status: string) => {
    const done = performance.now();
    if (scheduled < measureFrom || scheduled >= end) return;
    requests++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 'ok') ok++;
    latencies.push(done - scheduled);
  };

  if (spec.mode === 'closed') {
    await Promise.all(
      Array.from({ length: spec.concurrency }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          record(t, await send(counter++).catch((e: Error) => `error ${e.message}`));
        }
      }),
    );
  } else {
    const interval = 1000 / spec.rate;
    const inFlight = new Set<Promise<void>>();
    let next = performance.now();
    while (next < end) {
      const now = performance.now();
      if (now < next) {
        await new Promise((r) => setTimeout(r, Math.max(0, next - now - 1)));
        continue;
      }
      const scheduled = next;
      next += interval;
      if (inFlight.size >= 4096) {
        record(scheduled, 'dropped by the load generator (4096 in flight)');
        continue;
      }
      const p: Promise<void> = send(counter++)
        .catch((e: Error) => `error ${e.message}`)
        .then((s) => {
          record(scheduled, s);
          inFlight.delete(p);
        });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }
  await close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests,
    ok,
    spansOk: ok * spec.spansPerRequest,
    statuses,
    seconds: spec.durationMs / 1000,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: sorted.length ? sorted[sorted.length - 1]! : 0,
    },
  };
}

if (process.send) {
  process.once('message', (spec: LoadSpec) => {
    runLoad(spec).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (err: Error) => process.send!({ error: err.stack ?? err.message }, () => process.exit(1)),
    );
  });
}
