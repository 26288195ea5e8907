import type { ServiceDefinition } from '@grpc/grpc-js';
import { exportPath } from '../../src/otlp/grpc.js';
import type { Signal } from '../../src/otlp/signal.js';

const identity = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * The Export method for grpc-js (raw bytes in and out), for the test and benchmark stand-ins that
 * check our own client and server against an independent implementation.
 */
export function exportDefinition(signal: Signal): ServiceDefinition {
  return {
    Export: {
      path: exportPath(signal),
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: toBuffer,
      responseDeserialize: identity,
    },
  };
}
