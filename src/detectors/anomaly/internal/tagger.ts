import { ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../../../otlp/wire.js';
import { ANOMALY_ATTRIBUTES as A, REASONS, type Reason } from '../attributes.js';
import type { AnomalyRecord } from './anomaly-record.js';
import { SEVERITY_LABELS, SEVERITY_NAMES } from './severity.js';
import { SCOPES, SLOT_COUNT, type Scope } from './slots.js';

/**
 * The attributes DESIGN.md promises on an anomalous span, encoded as `Span.attributes` entries
 * (field 9, KeyValue{key 1, value 2: AnyValue{string 1 | int 3 | double 4}}), ready to be appended
 * to the span's bytes with `rewriteItems`: protobuf merges the repeated field, so the span's own
 * attributes are kept.
 *
 * Hot enough to matter (about 1% of all spans are tagged, and every tagged span used to cost
 * microseconds of string encoding): every attribute whose value comes from a small set (severity,
 * label, detector, reason, scope, the 200 window labels) is encoded once, up front; doubles are
 * templates whose 8 value bytes are patched; only `samples` is a varint written per span.
 */
const SPAN_ATTRIBUTES = 9;
const STRING_VALUE = 1;
const INT_VALUE = 3;
const DOUBLE_VALUE = 4;

function keyValue(key: string, value: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter(128);
  w.fork().tag(1, WIRE_LEN).string(key).fork();
  value(w);
  return w.join(2).join(SPAN_ATTRIBUTES).finish();
}

const stringAttribute = (key: string, v: string) =>
  keyValue(key, (w) => w.tag(STRING_VALUE, WIRE_LEN).string(v));
const intAttribute = (key: string, v: number) =>
  keyValue(key, (w) => w.tag(INT_VALUE, WIRE_VARINT).varint(v));
/** A double attribute with value 0: its last 8 bytes are the value, to patch. */
const doubleTemplate = (key: string) =>
  keyValue(key, (w) => w.tag(DOUBLE_VALUE, WIRE_I64).double(0));

const SEVERITY = SEVERITY_NAMES.map((s) => stringAttribute(A.severity, s));
const SEVERITY_NUMBER = [1, 2, 3, 4, 5].map((n) => intAttribute(A.severityNumber, n));
const SEVERITY_LABEL = SEVERITY_LABELS.map((l) => stringAttribute(A.severityLabel, l));
const REASON = new Map<Reason, Uint8Array>(REASONS.map((r) => [r, stringAttribute(A.reason, r)]));
const SCOPE = new Map<Scope, Uint8Array>(SCOPES.map((s) => [s, stringAttribute(A.scope, s)]));
const DOUBLES = [A.score, A.ratio, A.meanMs, A.stddevMs, A.p99Ms].map(doubleTemplate);
const OPERATION_RATIO = doubleTemplate(A.operationRatio);
// samples: KeyValue(9) { key(1) "anomaly.baseline.samples", value(2) { int(3) varint } }
const SAMPLES_KEY = new TextEncoder().encode(A.samples);

export class AttributeEncoder {
  private readonly detector: Uint8Array;
  private readonly windows: Uint8Array[];
  private readonly scratch = new DataView(new ArrayBuffer(8));

  /** `windows[slot]` is the `anomaly.baseline.window` text of each of the 200 slots. */
  constructor(detector: string, windows: readonly string[]) {
    if (windows.length !== SLOT_COUNT) throw new Error(`expected ${SLOT_COUNT} window labels`);
    this.detector = stringAttribute(A.detector, detector);
    this.windows = windows.map((w) => stringAttribute(A.window, w));
  }

  /**
   * `a`'s attributes; `withoutVerdict`: without severity, detector and reason, nor the score,
   * scope and window that go with them, for a span another detector judged more severe
   * (rates/batch-tags.ts writes those): its baseline's numbers kept, no attribute twice.
   */
  encode(a: AnomalyRecord, slot: number, withoutVerdict = false): Uint8Array {
    const parts = withoutVerdict
      ? []
      : [
          SEVERITY[a.severity - 1]!,
          SEVERITY_NUMBER[a.severity - 1]!,
          SEVERITY_LABEL[a.severity - 1]!,
          this.detector,
          REASON.get(a.reason)!,
        ];
    const window = this.windows[slot]!;
    const scope = SCOPE.get(a.scope)!;
    const withOperation = a.reason === 'slow_operation';
    const samples = Math.max(0, Math.round(a.samples));
    const samplesSize = varintSize(samples);
    // value(2){ tag(3) varint }, key(1){ bytes }, KeyValue(9){ ... }
    const anyValueLen = 1 + samplesSize;
    const kvLen = 2 + SAMPLES_KEY.length + 2 + anyValueLen;
    // Without the verdict, its score (DOUBLES[0]), scope and window are the other detector's.
    const first = withoutVerdict ? 1 : 0;
    let size = 2 + kvLen + (withoutVerdict ? 0 : scope.length + window.length);
    for (const p of parts) size += p.length;
    for (let k = first; k < 5; k++) size += DOUBLES[k]!.length;
    if (withOperation) size += OPERATION_RATIO.length;
    const out = new Uint8Array(size);
    let pos = 0;
    for (const p of parts) {
      out.set(p, pos);
      pos += p.length;
    }
    const values = [a.score, a.ratio, a.meanMs, a.stddevMs, a.p99Ms];
    for (let k = first; k < 5; k++) pos = this.double(out, pos, DOUBLES[k]!, values[k]!);
    if (withOperation) pos = this.double(out, pos, OPERATION_RATIO, a.operationRatio);
    out[pos++] = (SPAN_ATTRIBUTES << 3) | WIRE_LEN;
    out[pos++] = kvLen;
    out[pos++] = (1 << 3) | WIRE_LEN;
    out[pos++] = SAMPLES_KEY.length;
    out.set(SAMPLES_KEY, pos);
    pos += SAMPLES_KEY.length;
    out[pos++] = (2 << 3) | WIRE_LEN;
    out[pos++] = anyValueLen;
    out[pos++] = (INT_VALUE << 3) | WIRE_VARINT;
    let v = samples;
    while (v >= 0x80) {
      out[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    out[pos++] = v;
    if (withoutVerdict) return out;
    out.set(scope, pos);
    pos += scope.length;
    out.set(window, pos);
    return out;
  }

  /** Copies a double attribute's template to `pos` with `value` patched in; returns the end. */
  private double(out: Uint8Array, pos: number, template: Uint8Array, value: number): number {
    out.set(template, pos);
    pos += template.length;
    this.scratch.setFloat64(0, value, true);
    for (let b = 0; b < 8; b++) out[pos - 8 + b] = this.scratch.getUint8(b);
    return pos;
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
