import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isCsvPath, readCsvSpans } from './csv-spans.js';
import { readOtlpSpans, type PlayedRequest } from './otlp-spans.js';
import { SpanTable } from './span-table.js';
import { KeyForm } from '../internal/key-form.js';

/** Spans to replay, and the requests that carry them, in the order they are played. */
export interface ReplayStream {
  readonly table: SpanTable;
  readonly requests: readonly PlayedRequest[];
  /** Spans read twice (the same trace and span id in two files) and played once. */
  readonly duplicates: number;
  readonly files: number;
}

/** CSV spans are sent as the SDKs would: one request per second of span ends, at most this many. */
export const CSV_BATCH_MS = 1000;
const CSV_BATCH_MAX = 4096;

const TRACE_FILE = /\.(csv|csv\.gz|json|jsonl|ndjson)$/i;

/** Files named on the command line; a directory stands for its trace files, by name. */
export function expandPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new Error(`${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (!isDir) {
      out.push(p);
      continue;
    }
    const files = readdirSync(p)
      .filter((f) => TRACE_FILE.test(f))
      .sort()
      .map((f) => join(p, f));
    if (files.length === 0)
      throw new Error(`${p}: a directory without trace files (.csv, .csv.gz, .json, .jsonl)`);
    out.push(...files);
  }
  return out;
}

/**
 * Reads trace files (Nezha/TraStrainer CSV, or OTLP/JSON) into one stream, times moved by
 * `shiftNs`. OTLP requests are played as they were exported; CSV spans, which carry no request,
 * are sorted by end time, read once when files overlap, and sent in one request per second.
 * OTLP spans are named by the operation of their key, formed with `keyAttributes` as the
 * processor forms it.
 */
export function readStream(
  paths: readonly string[],
  shiftNs = 0n,
  keyAttributes: readonly string[] = [],
): ReplayStream {
  const files = expandPaths(paths);
  const csv = new SpanTable();
  for (const f of files) if (isCsvPath(f)) readCsvSpans(f, csv, shiftNs);
  const table = new SpanTable();
  const requests: PlayedRequest[] = [];
  const seen = new Set<number>();
  let duplicates = 0;
  let batch: number[] = [];
  let at = Number.NEGATIVE_INFINITY;
  const send = () => {
    if (batch.length === 0) return;
    // One ResourceSpans per resource: the request lists spans grouped by resource, in this order.
    const first = table.count;
    const order = batch.map((i, k) => [csv.resource[i]!, k, i] as const);
    order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [, , i] of order) csv.copyTo(table, i);
    requests.push({ at, first, count: batch.length, bytes: undefined });
    batch = [];
  };
  for (const i of byEnd(csv)) {
    const key = csv.spanKey(i);
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    const end = csv.endMs(i);
    if (end >= at || batch.length >= CSV_BATCH_MAX) {
      send();
      at = (Math.floor(end / CSV_BATCH_MS) + 1) * CSV_BATCH_MS;
    }
    batch.push(i);
  }
  send();
  const keyForm = new KeyForm(keyAttributes);
  for (const f of files) {
    if (isCsvPath(f)) continue;
    // One by one: push(...list) passes each request as an argument, and a file of more than
    // ~125,000 requests (a day of the file exporter's lines) overflowed the stack.
    for (const r of readOtlpSpans(f, table, shiftNs, keyForm)) requests.push(r);
  }
  requests.sort((a, b) => a.at - b.at || a.first - b.first);
  return { table, requests, duplicates, files: files.length };
}

/** Span indexes of a table by end time (then start time, then table order). */
function byEnd(t: SpanTable): Int32Array {
  const end = Float64Array.from({ length: t.count }, (_, i) => Number(t.endNs[i]!));
  const start = Float64Array.from({ length: t.count }, (_, i) => Number(t.startNs[i]!));
  const order = Int32Array.from({ length: t.count }, (_, i) => i);
  return order.sort((a, b) => end[a]! - end[b]! || start[a]! - start[b]! || a - b);
}
