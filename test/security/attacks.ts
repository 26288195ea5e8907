import http2 from 'node:http2';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { exportPath, framePrefix } from '../../src/otlp/grpc.js';
import { ProtoWriter, WIRE_LEN, WIRE_VARINT } from '../../src/otlp/wire.js';
import { metricsBatch } from '../exporters/batches.js';
import { traceRequest } from '../helpers/spans.js';

/**
 * The attacks of issue 17, each bounded in count and time, against 127.0.0.1 only. Each returns
 * what it saw, so a test can check the answers and a benchmark can print them.
 */

function hostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

/** Opens `n` TCP connections that send nothing (or only `preface`); resolves once all are open or refused. */
export async function idleConnections(
  address: string,
  n: number,
  preface?: Buffer,
): Promise<{
  sockets: net.Socket[];
  closedByServer: () => number;
  /** Resolves once the server has closed at least `count` of them, or after `ms` with the count. */
  closedAtLeast: (count: number, ms: number) => Promise<number>;
}> {
  const [host, port] = hostPort(address);
  const sockets: net.Socket[] = [];
  let closedByServer = 0;
  const waiters = new Set<() => void>();
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, n - i) },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, host, () => {
              if (preface) s.write(preface);
              resolve();
            });
            s.resume(); // read (and drop) what the server sends, so that its close is seen
            s.on('error', () => resolve());
            s.on('close', () => {
              closedByServer++;
              for (const w of waiters) w();
              resolve();
            });
            sockets.push(s);
          }),
      ),
    );
  }
  const closedAtLeast = (count: number, ms: number) =>
    new Promise<number>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(closedByServer);
      };
      const check = () => {
        if (closedByServer >= count) done();
      };
      const timer = setTimeout(done, ms);
      waiters.add(check);
      check();
    });
  return { sockets, closedByServer: () => closedByServer, closedAtLeast };
}

/** True when `what` was still open after `ms` (the server never cut it). */
function closedBy(
  what: { once(e: 'close', f: () => void): unknown },
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    what.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

export const HTTP2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), // an empty SETTINGS frame
]);

/**
 * `n` gRPC calls, each on its own connection, sending 3.9 MiB of a 4 MiB message and never
 * ending it. Resolves with the grpc-status of each (or 'reset' when cut without one).
 */
export async function slowGrpcStreams(
  address: string,
  n: number,
  deadlineMs = 60_000,
): Promise<string[]> {
  const chunk = Buffer.concat([
    framePrefix(4 * 1024 * 1024 - 5, false),
    Buffer.alloc(3.9 * 1024 * 1024),
  ]);
  return Promise.all(
    Array.from({ length: n }, async () => {
      const session = http2.connect(`http://${address}`);
      session.on('error', () => undefined);
      const stream = session.request({
        ':method': 'POST',
        ':path': exportPath('traces'),
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      let status: string | undefined;
      const read = (h: http2.IncomingHttpHeaders) =>
        (status ??= h['grpc-status'] as string | undefined);
      stream.on('response', read);
      stream.on('trailers', read);
      stream.resume();
      stream.write(chunk);
      const held = await closedBy(stream, deadlineMs);
      session.destroy();
      return held ? 'held' : (status ?? 'reset');
    }),
  );
}

/**
 * `n` OTLP/HTTP requests announcing `bodyBytes` and sending all but 1 KiB of it, never the rest.
 * Resolves with each status line (or 'closed').
 */
export async function slowHttpBodies(
  address: string,
  n: number,
  bodyBytes: number,
  deadlineMs = 60_000,
): Promise<string[]> {
  const [host, port] = hostPort(address);
  const body = Buffer.alloc(bodyBytes - 1024);
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<string>((resolve) => {
          let answer = '';
          const s = net.connect(port, host, () => {
            s.write(
              `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${bodyBytes}\r\n\r\n`,
            );
            s.write(body);
          });
          s.on('data', (d: Buffer) => (answer ||= d.toString().split('\r\n')[0]!));
          s.on('error', () => undefined);
          void closedBy(s, deadlineMs).then((held) => {
            s.destroy();
            resolve(held ? 'held' : answer || 'closed');
          });
        }),
    ),
  );
}

/** The 53-byte-class request of issue 17: a histogram point whose bucket_counts has 7 bytes. */
export function packedPoison(): Uint8Array {
  const w = new ProtoWriter();
  w.fork().fork().fork().tag(1, WIRE_LEN).string('http.server.duration').fork().fork();
  w.tag(3, 1).fixed64(1_700_000_000_000_000_000);
  w.tag(6, WIRE_LEN).bytes(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
  w.join(1).join(9).join(2).join(2).join(1);
  return w.finish();
}

/** A valid trace request with an unknown field whose 10-byte varint overflows 64 bits. */
export function varintOverflow(): Uint8Array {
  const overflow = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
  return Buffer.concat([traceRequest(2), Buffer.from([(99 << 3) | WIRE_VARINT, ...overflow])]);
}

export const validMetrics = (points: number) => metricsBatch(points).bytes;

/** POSTs an OTLP/HTTP body; resolves with the status. */
export async function post(
  address: string,
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`http://${address}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', ...headers },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** 20.7 MB of `{"x":[{},{},...]}` (an unknown field), gzip: about 20 KB on the wire. */
export function jsonBomb(): Buffer {
  return gzipSync(Buffer.from(`{"x":[${'{},'.repeat(6_900_000)}{}]}`), { level: 9 });
}

/** One gRPC Export call with `grpc-timeout` set; resolves with its grpc-status. */
export async function grpcCall(address: string, timeout: string): Promise<string | undefined> {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  const body = traceRequest(1);
  const stream = session.request({
    ':method': 'POST',
    ':path': exportPath('traces'),
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': timeout,
  });
  let status: string | undefined;
  const read = (h: http2.IncomingHttpHeaders) =>
    (status ??= h['grpc-status'] as string | undefined);
  stream.on('response', read);
  stream.on('trailers', read);
  stream.on('error', () => undefined);
  stream.resume();
  stream.end(Buffer.concat([framePrefix(body.length, false), body]));
  await new Promise((resolve) => stream.once('close', resolve));
  session.destroy();
  return status;
}

/** Admin API paths and methods probed without a token: the statuses seen. */
export async function adminEnumeration(address: string): Promise<number[]> {
  const probes: Array<[string, string]> = [
    ['GET', '/api/v1/nothing'],
    ['GET', '/api/v1/secret-route'],
    ['DELETE', '/api/v1/anomalies'],
    ['PUT', '/api/v1/recalculate'],
    ['GET', '/api/v1/anomalies'],
  ];
  return Promise.all(
    probes.map(async ([method, path]) => {
      const res = await fetch(`http://${address}${path}`, { method });
      await res.arrayBuffer();
      return res.status;
    }),
  );
}
