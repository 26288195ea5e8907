/**
 * The downstream, run in its own process: an OTLP/gRPC TraceService standing in for Jaeger's
 * OTLP port, counting the spans that arrive (grpc-js decompresses gzip). It reports counts to the
 * parent on request.
 */
import * as grpc from '@grpc/grpc-js';
import { indexSpans } from '../../src/otlp/trace-index.js';

let spans = 0;
let requests = 0;
const server = new grpc.Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
server.addService(
  {
    Export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      spans += indexSpans(call.request).spans.length;
      requests++;
      cb(null, Buffer.alloc(0));
    },
  },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.send!({ port });
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'count') process.send!({ spans, requests });
  if (m.type === 'reset') {
    spans = 0;
    requests = 0;
    process.send!({ spans, requests });
  }
});
