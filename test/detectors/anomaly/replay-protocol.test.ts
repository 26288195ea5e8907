import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceOfPod, splitCsvLine } from '../../../src/detectors/anomaly/replay/csv-spans.js';
import { readFaultList, type Fault } from '../../../src/detectors/anomaly/replay/faults.js';
import { readStream } from '../../../src/detectors/anomaly/replay/inputs.js';
import {
  LEFT_OUT,
  labelSpans,
  NEGATIVE,
  POSITIVE,
} from '../../../src/detectors/anomaly/replay/protocol.js';
import { ID_BYTES, SpanTable } from '../../../src/detectors/anomaly/replay/span-table.js';

const MIN = 60_000;
const T0 = Date.UTC(2022, 7, 22, 4, 0);
const FRONTEND = 'frontend-579b9bff58-t2dbm';
const CART = 'cartservice-579f59597d-wc2lz';
const EMAIL = 'emailservice-55fdc5b988-f6xth';

/** A table of spans `[pod, trace, span, parent or 0, start minute]` (ids as small numbers). */
function table(rows: [string, number, number, number, number][]): SpanTable {
  const t = new SpanTable();
  const ids = new Uint8Array(ID_BYTES);
  for (const [pod, trace, span, parent, minute] of rows) {
    ids.fill(0);
    ids[15] = trace;
    ids[23] = span;
    ids[31] = parent;
    const start = BigInt(T0 + minute * MIN) * 1_000_000n;
    t.push(start, start + 5_000_000n, ids, 0, 'op', 0, { service: serviceOfPod(pod), pod });
  }
  return t;
}

const fault = (pod: string, type: string, minute: number): Fault => ({
  at: T0 + minute * MIN,
  pod,
  service: serviceOfPod(pod),
  type,
  latency: type === 'cpu_contention' || type === 'network_delay',
});

describe('hourglass replay: the datasets protocol', () => {
  it('counts the pod for CPU faults, its callers for network delay, and leaves out what else a fault touches', () => {
    const t = table([
      // trace 1, during the network delay on cart (injected at minute 3): frontend calls cart
      [FRONTEND, 1, 1, 0, 3.5], //  0: frontend root: up the trace from the call -> left out
      [FRONTEND, 1, 2, 1, 3.5], //  1: the call into cart -> positive
      [CART, 1, 3, 2, 3.5], //      2: cart's own span -> left out (the injected pod)
      [FRONTEND, 2, 4, 0, 4], //    3: a request that never reaches cart -> negative
      [CART, 3, 5, 0, 2.5], //      4: cart before the injection -> negative
      [FRONTEND, 4, 6, 0, 7.5], //  5: after the fault's 4 minutes, another pod -> negative
      [FRONTEND, 5, 7, 0, 10.5], // 6: 7.5 min after the cart injection, elsewhere -> left out
      [EMAIL, 6, 8, 0, 10.5], //    7: email's own span during its CPU fault -> positive
      [FRONTEND, 7, 9, 0, 12], //   8: 9 min after cart's, 2 after email's, another pod -> negative
    ]);
    const faults = [fault(CART, 'network_delay', 3), fault(EMAIL, 'cpu_contention', 10)];
    const { label, fault: of, leftOut } = labelSpans(t, faults);
    expect([...label]).toEqual([
      LEFT_OUT,
      POSITIVE,
      LEFT_OUT,
      NEGATIVE,
      NEGATIVE,
      NEGATIVE,
      LEFT_OUT,
      POSITIVE,
      NEGATIVE,
    ]);
    expect([...of]).toEqual([-1, 0, -1, -1, -1, -1, -1, 1, -1]);
    expect(leftOut).toEqual({ near: 1, pod: 1, callers: 1 });
  });

  it('leaves out everything near a code-level fault elsewhere, and its pod', () => {
    const t = table([
      [FRONTEND, 1, 1, 0, 3], //   3 min after an exception on cart
      [CART, 2, 2, 0, 3.2], //     on the exception's own pod
      [FRONTEND, 3, 3, 0, 12.5], // more than 8 min after it
    ]);
    const { label } = labelSpans(t, [
      fault(CART, 'exception', 0),
      fault(EMAIL, 'cpu_contention', 4),
    ]);
    // Span 0 belongs to the email fault's window (injected less than a minute after it started),
    // and is within 8 minutes of the exception: left out. Span 1 too. Span 2 is clear of both.
    expect([...label]).toEqual([LEFT_OUT, LEFT_OUT, NEGATIVE]);
  });
});

describe('hourglass replay: inputs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hourglass-replay-in-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads fault lists by hour, with inject_time as UTC, and notes timestamps that disagree', () => {
    const path = join(dir, 'fault_list.json');
    writeFileSync(
      path,
      JSON.stringify({
        '13': [
          {
            inject_time: '2023-01-29 13:31:54',
            inject_timestamp: String(Date.UTC(2023, 0, 29, 5, 31, 54) / 1000), // 8 h off, as in TrainTicket's
            inject_pod: 'ts-contacts-service-866bd68c97-xcqfx',
            inject_type: 'cpu_contention',
          },
        ],
        '09': [
          {
            inject_time: '2023-01-29 09:25:39',
            inject_timestamp: String(Date.UTC(2023, 0, 29, 9, 25, 39) / 1000),
            inject_pod: 'ts-basic-service-5dc8d4f9fd-46997',
            inject_type: 'exception',
          },
        ],
      }),
    );
    const { faults, notes } = readFaultList(path);
    expect(faults).toEqual([
      {
        at: Date.UTC(2023, 0, 29, 9, 25, 39),
        pod: 'ts-basic-service-5dc8d4f9fd-46997',
        service: 'ts-basic-service',
        type: 'exception',
        latency: false,
      },
      {
        at: Date.UTC(2023, 0, 29, 13, 31, 54),
        pod: 'ts-contacts-service-866bd68c97-xcqfx',
        service: 'ts-contacts-service',
        type: 'cpu_contention',
        latency: true,
      },
    ]);
    expect(notes).toEqual([
      `${path}: inject_timestamp disagrees with inject_time (read as UTC) by up to 8.0 h for 1 of 2 faults; inject_time used`,
    ]);
    writeFileSync(path, '{"03": [{"inject_time": "2022-08-22 03:53:54"}]}');
    expect(() => readFaultList(path)).toThrow(`${path}: fault 1: needs inject_pod and inject_type`);
  });

  /** One OTLP/JSON request of one 5 ms span, `i` ms after T0. */
  const request = (i: number) => {
    const id = (i + 1).toString(16).padStart(16, '0');
    const start = BigInt(T0) * 1_000_000n + BigInt(i) * 1_000_000n;
    const span = `{"traceId":"${id}${id}","spanId":"${id}","name":"op","startTimeUnixNano":"${start}","endTimeUnixNano":"${start + 5_000_000n}"}`;
    return `{"resourceSpans":[{"scopeSpans":[{"spans":[${span}]}]}]}`;
  };

  it('refuses a shift that moves a span before 1970 or after 2262, naming where', () => {
    // The times wrapped without a word: --shift 9999999h replayed 2022's spans in 1994.
    const json = join(dir, 'one.jsonl');
    writeFileSync(json, request(0));
    const hour = 3_600_000_000_000n;
    expect(() => readStream([json], 9_999_999n * hour)).toThrow(
      `${json}: request 1: a span's time, moved by the shift, falls after 2262`,
    );
    expect(() => readStream([json], -500_000n * hour)).toThrow(
      `${json}: request 1: a span's time, moved by the shift, falls before 1970`,
    );
    const csv = join(dir, '04_00_trace.csv');
    writeFileSync(
      csv,
      'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n' +
        `0af7651916cd43dd8448eb211c80319c,b7ad6b7169203331,root,${CART},GetCart,${BigInt(T0) * 1_000_000n},${BigInt(T0) * 1_000_000n + 5_000_000n},5000`,
    );
    expect(() => readStream([csv], 9_999_999n * hour)).toThrow(
      `${csv}:2: a span's time, moved by the shift, falls after 2262`,
    );
    expect(readStream([json, csv], 168n * hour).table.count).toBe(2);
  });

  it('reads an OTLP/JSON lines file of 140,000 requests', () => {
    // Each request was passed as an argument to push(...list): past ~125,000 (a day of the file
    // exporter's lines) "Maximum call stack size exceeded".
    const N = 140_000;
    const lines = Array.from({ length: N }, (_, i) => request(i));
    writeFileSync(join(dir, 'day.jsonl'), lines.join('\n'));
    const s = readStream([join(dir, 'day.jsonl')]);
    expect(s.requests).toHaveLength(N);
    expect(s.table.count).toBe(N);
  });

  it('reads overlapping CSV files once, quoted fields too, and sends spans grouped by resource', () => {
    const header =
      'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration';
    const row = (span: string, pod: string, op: string, startMs: number) =>
      `${'a'.repeat(32)},${span},root,${pod},${op},${startMs}000000,${startMs + 2}000000,2000`;
    const t = T0;
    writeFileSync(
      join(dir, '04_00_trace.csv'),
      [
        header,
        row('0000000000000001', CART, 'GetCart', t),
        row('0000000000000002', FRONTEND, '"Recv, GET"', t + 1),
      ].join('\n'),
    );
    writeFileSync(
      join(dir, '04_01_trace.csv'),
      [
        header,
        row('0000000000000002', FRONTEND, '"Recv, GET"', t + 1),
        row('0000000000000003', CART, 'GetCart', t + 2),
      ].join('\n'),
    );
    const s = readStream([dir]);
    expect(s.files).toBe(2);
    expect(s.duplicates).toBe(1);
    expect(s.table.count).toBe(3);
    expect(s.requests).toHaveLength(1);
    // Grouped by resource within the request: cart's two spans, then frontend's.
    expect(Array.from({ length: 3 }, (_, i) => s.table.pod(i))).toEqual([CART, CART, FRONTEND]);
    expect(s.table.names).toContain('Recv, GET');
    expect(splitCsvLine('a,"b ""c"", d",e')).toEqual(['a', 'b "c", d', 'e']);
    expect(serviceOfPod('ts-order-service-5b67c48447-fj8b7')).toBe('ts-order-service');
  });
});
