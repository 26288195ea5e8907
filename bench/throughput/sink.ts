/**
 * The downstream, run in its own process: an OTLP/gRPC TraceService standing in for Jaeger's
 * OTLP port, counting the spans that arrive. Written on node:http2 with large flow-control
 * windows, as grpc-go servers (Jaeger) size them, so that the stand-in is not what limits the
 * sidecar: grpc-js keeps HTTP/2's 64 KiB default, which throttles large messages when this
 * process is busy. It reports counts to the parent on request.
 */
import http2 from 'node:http2';
import { gunzipSync } from 'node:zlib';
import { indexSpans } from '../../src/otlp/trace-index.js';

const WINDOW = 16 * 1024 * 1024;
let spans = 0;
let requests = 0;

const server = http2.createServer({
  settings: { initialWindowSize: WINDOW },
  maxSessionMemory: 1024,
});
server.on('session', (session) => session.setLocalWindowSize(WINDOW));
server.on('stream', (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    const compressed = body[0] === 1;
    const message = body.subarray(5, 5 + body.readUInt32BE(1));
    const bytes = compressed && headers['grpc-encoding'] === 'gzip' ? gunzipSync(message) : message;
    spans += indexSpans(bytes).spans.length;
    requests++;
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
});
server.listen(0, '127.0.0.1', () =>
  process.send!({ port: (server.address() as { port: number }).port }),
);
process.on('message', (m: { type: string }) => {
  if (m.type === 'count') process.send!({ spans, requests });
  if (m.type === 'reset') {
    spans = 0;
    requests = 0;
    process.send!({ spans, requests });
  }
});
