// The int32 fields of a span in a `SpanLayout`; -1 where the span has no such field.
export const L_START = 0;
export const L_END = 1;
export const L_RESOURCE = 2;
export const L_NAME = 3;
export const L_NAME_END = 4;
/** Offset of the kind varint. */
export const L_KIND = 5;
/** Offsets of the fixed64 start and end times. */
export const L_START_TIME = 6;
export const L_END_TIME = 7;
export const L_TRACE_ID = 8;
export const L_SPAN_ID = 9;
export const L_PARENT_SPAN_ID = 10;
/** Offset and end of the Status message value. */
export const L_STATUS = 11;
export const L_STATUS_END = 12;
/** 1 when one of the span's attributes has a key starting with `anomaly.` (isAnomalyKeyValue). */
export const L_ANOMALY = 13;
export const L_STRIDE = 14;

/**
 * Where the fields detection reads lie in a trace request: offsets only, recorded by the
 * receiver's validation walk as it passes them (`validateRequest(..., { layout: true })`), so that
 * detection does not scan the request a second time. `indexFromLayout` turns it into the same
 * `TraceIndex` as `indexSpans(bytes)`.
 */
export class SpanLayout {
  /** L_STRIDE int32 per span, in request order. */
  data = new Int32Array(64 * L_STRIDE);
  count = 0;
  /**
   * Per ResourceSpans that holds spans: the offset and end of its Resource message value, or
   * -1, -1. One without spans is not recorded (a 20 MiB body holds ten million empty ones).
   */
  readonly resources: number[] = [];
  /** The ResourceSpans being walked, until its first span records it. */
  private pending = false;
  private pendingStart = -1;
  private pendingEnd = -1;

  constructor(readonly bytes: Uint8Array) {}

  /** A ResourceSpans begins: the spans that follow belong to it. */
  addResource(): void {
    this.pending = true;
    this.pendingStart = -1;
    this.pendingEnd = -1;
  }

  setResource(start: number, end: number): void {
    if (this.pending) {
      this.pendingStart = start;
      this.pendingEnd = end;
      return;
    }
    const n = this.resources.length;
    if (n === 0) return;
    this.resources[n - 2] = start;
    this.resources[n - 1] = end;
  }

  /** Starts a span's record; returns where its fields go in `data`. */
  beginSpan(start: number, end: number): number {
    if (this.pending) {
      this.pending = false;
      this.resources.push(this.pendingStart, this.pendingEnd);
    }
    let data = this.data;
    const at = this.count * L_STRIDE;
    if (at + L_STRIDE > data.length) {
      const grown = new Int32Array(data.length * 2);
      grown.set(data);
      this.data = data = grown;
    }
    data.fill(-1, at, at + L_STRIDE);
    data[at + L_START] = start;
    data[at + L_END] = end;
    data[at + L_RESOURCE] = (this.resources.length >> 1) - 1;
    this.count++;
    return at;
  }
}
