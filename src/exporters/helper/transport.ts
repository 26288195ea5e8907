import type { OtlpBatch } from '../../component/consumer.js';
import type { ExportResult } from './export-result.js';

/**
 * One way of sending an encoded export request downstream (OTLP/gRPC, OTLP/HTTP). A transport
 * makes single attempts and classifies the answer; retrying, queueing, counting and logging are
 * `QueuedExporter`'s. It may throw only for bugs: every downstream answer or network error is an
 * `ExportResult`.
 */
export interface ExportTransport {
  /** Where the data goes, for logs (`jaeger:4317`, `http://jaeger:4318/v1/traces`). */
  readonly endpoint: string;
  send(batch: OtlpBatch, attempt: AttemptInfo): Promise<ExportResult>;
  /** Closes connections; attempts in progress may fail. */
  close(): Promise<void>;
}

export interface AttemptInfo {
  /** 1 for the first attempt of this batch, 2 for the first retry, ... */
  readonly n: number;
  /** How long this attempt may take (the exporter's `timeout`). */
  readonly timeoutMs: number;
}
