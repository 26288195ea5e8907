import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexAt, indexSpans } from '../../../src/otlp/trace-index.js';
import { ProtoWriter, WIRE_LEN } from '../../../src/otlp/wire.js';
import { captureExporterFactory, type CaptureExporter } from '../../helpers/capture-exporter.js';
import { startTestSidecar, type TestSidecar } from '../../helpers/sidecar.js';
import { traceRequest } from '../../helpers/spans.js';

/**
 * Hostile input at both receivers, bounded in time: random mutations and truncations of real SDK
 * payloads, garbage, huge length prefixes, deep nesting, invalid UTF-8, gzip bombs, hostile JSON,
 * a million attributes. Every answer is a clear 2xx/4xx (gRPC OK or a client error), never a 5xx
 * or a crash; valid requests interleaved with the bad ones are all delivered; memory stays bounded.
 */
const capture = captureExporterFactory();
let sidecar: TestSidecar;
let exporter: CaptureExporter;
let grpcClient: grpc.Client;

beforeAll(async () => {
  sidecar = await startTestSidecar(
    `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  capture:
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [capture] }
  telemetry: { metrics: { level: none } }
`,
    { factories: [capture] },
  );
  exporter = capture.instances.get('capture/traces')!;
  grpcClient = new grpc.Client(sidecar.grpc, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
});
afterAll(async () => {
  grpcClient?.close();
  await sidecar?.shutdown();
});

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Sent = { body: Uint8Array | string; json: boolean; gzip?: boolean };

function hostileInputs(rand: () => number, valid: Uint8Array): Sent[] {
  const int = (n: number) => Math.floor(rand() * n);
  const mutated = Buffer.from(valid);
  for (let i = 0, n = 1 + int(8); i < n; i++) mutated[int(mutated.length)] = int(256);
  const deep = (n: number) => {
    let v = '{"stringValue":"x"}';
    for (let i = 0; i < n; i++) v = `{"kvlistValue":{"values":[{"key":"k","value":${v}}]}}`;
    return v;
  };
  const jsonSpan = (extra: string) =>
    `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",${extra}}]}]}]}`;
  return [
    { body: mutated, json: false },
    { body: valid.subarray(0, int(valid.length)), json: false },
    { body: Buffer.from(Array.from({ length: 1 + int(2048) }, () => int(256))), json: false },
    { body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), json: false },
    {
      body: new ProtoWriter()
        .tag(1, WIRE_LEN)
        .bytes(Buffer.from([0x12, 0x03, 0xc3, 0x28, 0xa0]))
        .finish(),
      json: false,
    },
    { body: jsonSpan(`"name": ${'9'.repeat(400)}`), json: true },
    { body: jsonSpan(`"attributes":[{"key":"k","value":${deep(500 + int(5000))}}]`), json: true },
    { body: jsonSpan('"kind": {"__proto__": {"polluted": true}}'), json: true },
    { body: jsonSpan('"startTimeUnixNano": [1,2,3]'), json: true },
    { body: '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"not-hex"}]}]}]}', json: true },
    { body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), json: true },
    { body: '[[[[[[[[[[[[[[[[[[[[[[[['.repeat(1000), json: true },
    { body: gzipSync(Buffer.alloc(40 * 1024 * 1024)), json: false, gzip: true },
  ];
}

function postHttp(s: Sent): Promise<number> {
  const headers: Record<string, string> = {
    'content-type': s.json ? 'application/json' : 'application/x-protobuf',
  };
  if (s.gzip) headers['content-encoding'] = 'gzip';
  return fetch(`http://${sidecar.http}/v1/traces`, { method: 'POST', body: s.body, headers }).then(
    async (r) => {
      await r.arrayBuffer();
      return r.status;
    },
  );
}

function callGrpc(body: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    grpcClient.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      (err) => resolve(err ? err.code : grpc.status.OK),
    );
  });
}

const ids = (bytes: Uint8Array) => indexSpans(bytes).spans.map((s) => hexAt(bytes, s.spanIdAt, 8));

describe('hostile input at both receivers', () => {
  it('answers every bad request with a client error and delivers every valid one', async () => {
    const rand = prng(20261121);
    const deadline = Date.now() + 12_000;
    const sentIds = new Set<string>();
    const httpStatuses = new Map<number, number>();
    const grpcCodes = new Map<number, number>();
    let rounds = 0;
    let peakRss = 0;
    while (Date.now() < deadline && rounds < 40) {
      rounds++;
      const valid = traceRequest(20);
      for (const input of hostileInputs(rand, valid)) {
        const status = await postHttp(input);
        httpStatuses.set(status, (httpStatuses.get(status) ?? 0) + 1);
        if (!input.json && !input.gzip) {
          const code = await callGrpc(input.body as Uint8Array);
          grpcCodes.set(code, (grpcCodes.get(code) ?? 0) + 1);
        }
        // A valid request after each bad one, alternating transports.
        const good = traceRequest(5);
        for (const id of ids(good)) sentIds.add(id);
        const ok =
          rounds % 2 === 0 ? await postHttp({ body: good, json: false }) : await callGrpc(good);
        expect(ok === 200 || ok === grpc.status.OK).toBe(true);
      }
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }
    // Only client errors (and 200 for mutations that happen to stay valid).
    expect([...httpStatuses.keys()].every((s) => s === 200 || s === 400 || s === 413)).toBe(true);
    expect(
      [...grpcCodes.keys()].every((c) =>
        [grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED].includes(c),
      ),
    ).toBe(true);
    expect(httpStatuses.get(400)).toBeGreaterThan(rounds * 8);
    expect(httpStatuses.get(413)).toBeGreaterThanOrEqual(rounds);
    // Every valid request arrived, exactly as sent.
    const delivered = new Set(exporter.batches.flatMap((b) => ids(b.bytes)));
    for (const id of sentIds) expect(delivered.has(id)).toBe(true);
    // 40 MiB bombs and 20 MiB bodies never piled up: the test process (sidecar included) stayed small.
    expect(peakRss).toBeLessThan(1024 * 1024 * 1024);
  });

  it('takes a span with a million attributes within the body limit, or answers 413 above it', async () => {
    const w = new ProtoWriter(16 * 1024 * 1024);
    w.fork().fork().fork();
    w.tag(1, WIRE_LEN).bytes(Buffer.alloc(16, 7)).tag(2, WIRE_LEN).bytes(Buffer.alloc(8, 7));
    for (let i = 0; i < 1_000_000; i++) w.fork().tag(1, WIRE_LEN).string(`a${i}`).join(9);
    w.join(2).join(2).join(1);
    const body = w.finish();
    expect(body.length).toBeLessThan(20 * 1024 * 1024);
    expect(await postHttp({ body, json: false })).toBe(200);
    const twice = Buffer.concat([body, body]);
    expect(await postHttp({ body: twice, json: false })).toBe(413);
    expect(await callGrpc(body)).toBe(grpc.status.RESOURCE_EXHAUSTED); // over max_recv_msg_size_mib (4)
  });
});
