import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { OtlpBatch, Signal } from '../../component/consumer.js';
import { clientTlsOptions } from '../../config/tls.js';
import { exportDefinition } from '../../receiver/otlp/grpc-server.js';
import type { ExportResult } from '../helper/export-result.js';
import type { AttemptInfo, ExportTransport } from '../helper/transport.js';
import type { OtlpExporterConfig } from './config.js';
import { grpcResult } from './grpc-status.js';

const GZIP = 2; // grpc-js compression algorithm ids: 0 identity, 1 deflate, 2 gzip

const toBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const identity = (b: Buffer): Buffer => b;

/**
 * OTLP/gRPC: the encoded request goes as is (identity serializers) to
 * `/opentelemetry.proto.collector.<signal>.v1.<X>Service/Export`. The channel connects lazily, so
 * the sidecar starts while the downstream is down. First attempts fail fast when there is no
 * connection (the error names the cause, e.g. ECONNREFUSED); retries wait for the channel to
 * reconnect, within `timeout`, so they are sent as soon as the downstream is back.
 */
export class GrpcTransport implements ExportTransport {
  readonly endpoint: string;
  private readonly client: grpc.Client;
  private readonly path: string;
  private readonly metadata = new grpc.Metadata();
  private readonly calls = new Set<grpc.ClientUnaryCall>();

  constructor(config: OtlpExporterConfig, signal: Signal) {
    const https = config.endpoint.startsWith('https://');
    this.endpoint = config.endpoint.replace(/^https?:\/\//, '');
    this.path = exportDefinition(signal)['Export']!.path;
    for (const [k, v] of Object.entries(config.headers)) this.metadata.set(k.toLowerCase(), v);
    const options: grpc.ChannelOptions = {
      'grpc.primary_user_agent': 'hourglass',
      // Reconnect soon after the downstream comes back; our own retries pace the exports.
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 5_000,
    };
    if (config.compression === 'gzip') options['grpc.default_compression_algorithm'] = GZIP;
    if (config.keepalive) {
      options['grpc.keepalive_time_ms'] = config.keepalive.time;
      options['grpc.keepalive_timeout_ms'] = config.keepalive.timeout;
      options['grpc.keepalive_permit_without_calls'] = config.keepalive.permit_without_stream
        ? 1
        : 0;
    }
    const tls = clientTlsOptions(https ? { ...config.tls, insecure: false } : config.tls);
    let credentials = grpc.credentials.createInsecure();
    if (tls) {
      const context = createSecureContext({
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        minVersion: tls.minVersion,
      });
      credentials = grpc.credentials.createFromSecureContext(context, {
        rejectUnauthorized: tls.rejectUnauthorized,
      });
      if (tls.servername) {
        options['grpc.ssl_target_name_override'] = tls.servername;
        options['grpc.default_authority'] = tls.servername;
      }
    }
    this.client = new grpc.Client(this.endpoint, credentials, options);
  }

  send(batch: OtlpBatch, attempt: AttemptInfo): Promise<ExportResult> {
    return new Promise<ExportResult>((resolve) => {
      const call = this.client.makeUnaryRequest(
        this.path,
        toBuffer,
        identity,
        batch.bytes,
        this.metadataFor(attempt),
        { deadline: Date.now() + attempt.timeoutMs },
        (err, response) => {
          this.calls.delete(call);
          resolve(grpcResult(err, response));
        },
      );
      this.calls.add(call);
    });
  }

  private metadataFor(attempt: AttemptInfo): grpc.Metadata {
    const m = this.metadata.clone();
    m.setOptions({ waitForReady: attempt.n > 1 });
    return m;
  }

  close(): Promise<void> {
    for (const call of this.calls) call.cancel();
    this.client.close();
    return Promise.resolve();
  }
}
