import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { Signal } from '../../src/component/consumer.js';

/**
 * An independent decoder for assertions: protobufjs over the reference descriptor of the published
 * OTLP definitions (test/fixtures/otlp-v1.descriptor.json), not over the project's proto/ files or
 * codec. Defaults are filled in, so two encodings that differ only in whether they write default
 * values (proto3 allows both) compare equal.
 */
const root = protobuf.Root.fromJSON(
  JSON.parse(readFileSync(new URL('../fixtures/otlp-v1.descriptor.json', import.meta.url), 'utf8')),
);

const TYPES: Record<Signal, protobuf.Type> = {
  traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  metrics: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
  logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
};

export function decodeReference(signal: Signal, bytes: Uint8Array): Record<string, any> {
  const type = TYPES[signal];
  return type.toObject(type.decode(bytes), {
    longs: String,
    bytes: String,
    enums: Number,
    defaults: true,
    arrays: true,
  });
}

/** The resource entries of several encoded requests, decoded (what a consumer received in total). */
export function decodeEntries(signal: Signal, requests: readonly Uint8Array[]): unknown[] {
  const key =
    signal === 'traces'
      ? 'resourceSpans'
      : signal === 'metrics'
        ? 'resourceMetrics'
        : 'resourceLogs';
  return requests.flatMap((b) => decodeReference(signal, b)[key] as unknown[]);
}
