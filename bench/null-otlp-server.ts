/**
 * A downstream for the exporter benchmark, in its own process so that its CPU is not counted: it
 * accepts OTLP/gRPC (all three services) and OTLP/HTTP and answers success at once, counting
 * requests. Prints `grpc=<port> http=<port>` when ready.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { exportDefinition } from '../test/helpers/grpc-definition.js';

const server = new grpc.Server();
for (const signal of ['traces', 'metrics', 'logs'] as const) {
  server.addService(exportDefinition(signal), {
    Export: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.alloc(0)),
  });
}
const grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
    err ? reject(err) : resolve(port),
  ),
);
const httpServer = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const httpPort = (httpServer.address() as AddressInfo).port;
console.log(`grpc=${grpcPort} http=${httpPort}`);
