import type { OtlpBatch, Signal } from '../../component/consumer.js';
import { protoToJson } from '../../otlp/json-encode.js';
import { FieldReader } from '../../otlp/field-reader.js';
import { REQUEST_LEVELS } from '../../otlp/fields.js';
import type { DebugExporterConfig } from './config.js';
import { jsonScalar, jsonServiceName, type JsonKeyValue } from '../../otlp/json-attributes.js';
import { ANOMALY_ATTRIBUTES as A } from '../../detectors/anomaly/contract.js';

/** What the debug exporter prints for one batch (with a trailing newline). */
export function formatBatch(
  batch: OtlpBatch,
  verbosity: DebugExporterConfig['verbosity'],
  header: string,
  color: boolean,
): string {
  if (verbosity === 'detailed') {
    return `${header}\n${JSON.stringify(protoToJson(batch.signal, batch.bytes), null, 2)}\n`;
  }
  const summary = `${header} ${countResources(batch.bytes)} ${RESOURCE_NAME[batch.signal]}, ${batch.items} ${ITEMS[batch.signal]}`;
  if (verbosity === 'basic') return `${summary}\n`;
  const doc = protoToJson(batch.signal, batch.bytes) as JsonDoc;
  const lines = [summary];
  if (batch.signal === 'traces') traceLines(doc, color, lines);
  else if (batch.signal === 'metrics') metricLines(doc, lines);
  else logLines(doc, lines);
  return `${lines.join('\n')}\n`;
}

const RESOURCE_NAME: Record<Signal, string> = {
  traces: 'resource spans',
  metrics: 'resource metrics',
  logs: 'resource logs',
};
const ITEMS: Record<Signal, string> = {
  traces: 'spans',
  metrics: 'data points',
  logs: 'log records',
};

/** Top-level resource entries (`REQUEST_LEVELS.entry`), without decoding them. */
function countResources(b: Uint8Array): number {
  let n = 0;
  const r = new FieldReader(b);
  while (r.next()) {
    if (r.isLen(REQUEST_LEVELS.entry)) n++;
    r.skip();
  }
  return n;
}

type JsonDoc = Record<string, Array<Record<string, any>> | undefined>;

/** Every attribute, readable: its scalar, or the JSON of an array, map or bytes value. */
function attrs(list: JsonKeyValue[] | undefined): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const kv of list ?? [])
    m.set(kv.key, jsonScalar(kv.value) ?? JSON.stringify(kv.value ?? {}));
  return m;
}

function service(resource: { attributes?: JsonKeyValue[] } | undefined): string {
  return jsonServiceName(resource?.attributes);
}

const STATUS = ['UNSET', 'OK', 'ERROR'];
const SEVERITY_COLOR: Record<string, string> = {
  SEV1: '\x1b[1;31m',
  SEV2: '\x1b[31m',
  SEV3: '\x1b[33m',
  SEV4: '\x1b[36m',
  SEV5: '\x1b[36m',
};

/** One line per span: service, name, duration, status, ids; anomalies flagged with their reading. */
function traceLines(doc: JsonDoc, color: boolean, lines: string[]): void {
  for (const rs of doc['resourceSpans'] ?? []) {
    const svc = service(rs['resource']);
    for (const ss of rs['scopeSpans'] ?? []) {
      for (const s of ss['spans'] ?? []) {
        const ms =
          Number(BigInt(s['endTimeUnixNano'] ?? 0) - BigInt(s['startTimeUnixNano'] ?? 0)) / 1e6;
        const a = attrs(s['attributes']);
        let line = `  ${svc} ${JSON.stringify(s['name'] ?? '')} ${ms.toFixed(3)}ms ${STATUS[s['status']?.['code'] ?? 0] ?? 'UNSET'} trace=${s['traceId']} span=${s['spanId']}`;
        const severity = a.get(A.severity);
        if (severity !== undefined) line = anomalyLine(line, String(severity), a, color);
        lines.push(line);
      }
    }
  }
}

function anomalyLine(
  line: string,
  severity: string,
  a: Map<string, unknown>,
  color: boolean,
): string {
  const ratio = Number(a.get(A.ratio));
  const mean = Number(a.get(A.meanMs));
  const label = a.get(A.severityLabel);
  const window = a.get(A.window);
  const operation = Number(a.get(A.operationRatio));
  const why =
    a.get(A.reason) === 'slow_operation'
      ? `, operation ${Number.isFinite(operation) ? `${operation.toFixed(2)}x` : '?x'} slower`
      : '';
  const reading =
    rateReading(a) ??
    `${Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '?x'} baseline ${Number.isFinite(mean) ? `${mean.toFixed(1)}ms` : '?'}${why}`;
  const flag = `ANOMALY ${severity}${label ? ` (${String(label)})` : ''}: ${reading}${window ? ` [${String(window)}]` : ''}`;
  if (!color) return `!! ${line} ${flag}`;
  return `${SEVERITY_COLOR[severity] ?? '\x1b[31m'}!! ${line} ${flag}\x1b[0m`;
}

/** The numbers of an `errors` or `traffic` verdict (which carries no duration ratio). */
function rateReading(a: Map<string, unknown>): string | undefined {
  const num = (key: string) => Number(a.get(key));
  const detector = a.get(A.detector);
  if (detector === 'errors') {
    const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toPrecision(2)}%` : '?');
    const type = a.get(A.errorsType);
    return `errors ${pct(num(A.errorsRate))} of spans, usually ${pct(num(A.errorsBaselineRate))}${type === undefined ? '' : ` (${String(type)})`}`;
  }
  if (detector === 'traffic') {
    const n = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '?');
    return `traffic ${n(num(A.trafficRate))} spans/min, usually ${n(num(A.trafficBaselineRate))}`;
  }
  return undefined;
}

const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

function metricLines(doc: JsonDoc, lines: string[]): void {
  for (const rm of doc['resourceMetrics'] ?? []) {
    const svc = service(rm['resource']);
    for (const sm of rm['scopeMetrics'] ?? []) {
      for (const m of sm['metrics'] ?? []) {
        const type = METRIC_TYPES.find((t) => m[t] !== undefined) ?? 'empty';
        const points = (m[type]?.['dataPoints'] as unknown[] | undefined)?.length ?? 0;
        lines.push(`  ${svc} ${m['name'] ?? ''} ${type}: ${points} data points`);
      }
    }
  }
}

function logLines(doc: JsonDoc, lines: string[]): void {
  for (const rl of doc['resourceLogs'] ?? []) {
    const svc = service(rl['resource']);
    for (const sl of rl['scopeLogs'] ?? []) {
      for (const r of sl['logRecords'] ?? []) {
        const severity = r['severityText'] || `severity=${r['severityNumber'] ?? 0}`;
        const body = r['body']?.['stringValue'] ?? JSON.stringify(r['body'] ?? null);
        lines.push(`  ${svc} ${severity} ${body}`);
      }
    }
  }
}
