import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ID_BYTES, shiftedNs, type SpanTable } from './span-table.js';

/**
 * The trace CSV of the Nezha and TraStrainer datasets (IntelligentDDS), plain or gzipped:
 *
 *   TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration
 *
 * `ParentID` is `root` for a root span, `Duration` is in microseconds (used only when there is no
 * end time). The service is the pod name without its two last dash-separated parts
 * (`ts-order-service-5b67c48447-fj8b7` -> `ts-order-service`); a `ServiceName` column, where a
 * file has one, names it instead. There is no span kind, status or attribute column: spans are
 * played with kind UNSPECIFIED, status UNSET, and the resource attributes `service.name` and
 * `k8s.pod.name`.
 */
const REQUIRED = ['TraceID', 'SpanID', 'ParentID', 'OperationName', 'StartTimeUnixNano'] as const;

export function isCsvPath(path: string): boolean {
  return /\.csv(\.gz)?$/i.test(path);
}

/** The service of a Kubernetes pod name: without its two last dash-separated parts. */
export function serviceOfPod(pod: string): string {
  const parts = pod.split('-');
  return parts.length > 2 ? parts.slice(0, -2).join('-') : pod;
}

/** Reads one CSV file into `into` (times moved by `shiftNs`); returns the spans read. */
export function readCsvSpans(path: string, into: SpanTable, shiftNs = 0n): number {
  const text = fileText(path);
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  const col = (name: string) => header.indexOf(name);
  const missing = REQUIRED.filter((c) => col(c) < 0);
  if (col('PodName') < 0 && col('ServiceName') < 0) missing.push('PodName' as never);
  if (col('EndTimeUnixNano') < 0 && col('Duration') < 0) missing.push('EndTimeUnixNano' as never);
  if (missing.length > 0) {
    throw new Error(
      `${path}:1: not a Nezha/TraStrainer trace CSV: no column ${missing.join(', ')} (expected TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration)`,
    );
  }
  const c = {
    trace: col('TraceID'),
    span: col('SpanID'),
    parent: col('ParentID'),
    pod: col('PodName'),
    service: col('ServiceName'),
    name: col('OperationName'),
    start: col('StartTimeUnixNano'),
    end: col('EndTimeUnixNano'),
    duration: col('Duration'),
  };
  const ids = new Uint8Array(ID_BYTES);
  let read = 0;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line === '') continue;
    const f = splitCsvLine(line);
    const where = `${path}:${n + 1}`;
    ids.fill(0);
    hexInto(f[c.trace], ids, 0, 16, where, 'TraceID');
    hexInto(f[c.span], ids, 16, 8, where, 'SpanID');
    const parent = f[c.parent] ?? '';
    if (parent !== 'root' && parent !== '') hexInto(parent, ids, 24, 8, where, 'ParentID');
    const pod = (c.pod >= 0 ? f[c.pod] : undefined) ?? '';
    const service = (c.service >= 0 ? f[c.service] : undefined) || serviceOfPod(pod);
    if (service === '') throw new Error(`${where}: no PodName (or ServiceName)`);
    const start = nanos(f[c.start], where, 'StartTimeUnixNano');
    const end =
      c.end >= 0 && f[c.end] !== undefined && f[c.end] !== ''
        ? nanos(f[c.end], where, 'EndTimeUnixNano')
        : start + nanos(f[c.duration], where, 'Duration') * 1000n;
    if (end < start) throw new Error(`${where}: EndTimeUnixNano is before StartTimeUnixNano`);
    const from = shiftedNs(start, shiftNs, where);
    into.push(from, shiftedNs(end, shiftNs, where), ids, 0, f[c.name] ?? '', 0, {
      service,
      pod: pod || service,
    });
    read++;
  }
  return read;
}

function fileText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(
      `${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new Error(`${path}: not a valid gzip file (${(err as Error).message})`);
    }
  }
  return bytes.toString('utf8');
}

/** One CSV record (RFC 4180: fields may be quoted, with `""` for a quote inside). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

function hexInto(
  text: string | undefined,
  out: Uint8Array,
  at: number,
  bytes: number,
  where: string,
  column: string,
): void {
  if (text === undefined || text.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(text)) {
    throw new Error(`${where}: ${column} "${text ?? ''}" is not ${bytes * 2} hex digits`);
  }
  for (let k = 0; k < bytes; k++) out[at + k] = parseInt(text.slice(2 * k, 2 * k + 2), 16);
}

function nanos(text: string | undefined, where: string, column: string): bigint {
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new Error(`${where}: ${column} "${text ?? ''}" is not a whole number`);
  }
  return BigInt(text);
}
