import { RESOURCE_SPANS, SPAN } from './fields.js';
import { isAnomalyKeyValue, mayBeStatusCode } from './span-attributes.js';
import { requestSpecs, type MessageSpec } from './spec.js';

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
/** Offset and end of the first attribute (KeyValue) that may be an HTTP status code (mayBeStatusCode). */
export const L_CODE_ATTR = 14;
export const L_CODE_ATTR_END = 15;
export const L_STRIDE = 16;

const TRACE = requestSpecs().trace;
const F_RESOURCE = RESOURCE_SPANS.resource;

/**
 * Where the fields detection reads lie in a trace request: offsets only, recorded by the
 * receiver's validation walk as it passes them (`validateRequest(..., { layout: true })`), so that
 * detection does not scan the request a second time. `indexFromLayout` turns it into the same
 * `TraceIndex` as `indexSpans(bytes)`.
 *
 * The walk (validate.ts) knows messages and fields only by its tables; what a trace request's
 * fields mean for detection is here: it tells the layout each item it enters (`beginItem`,
 * `endItem`), each message field before walking into it (`enterMessage`), and each field of a
 * span whose fields are recorded (`recordsOf`, `spanField`). All calls, no closures: it runs per
 * field of every span the receiver takes.
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
  /** Where the fields of the span being walked go in `data`; -1 outside a span. */
  private current = -1;
  /** The ResourceSpans being walked, until its first span records it. */
  private pending = false;
  private pendingStart = -1;
  private pendingEnd = -1;

  constructor(readonly bytes: Uint8Array) {}

  /** The walk enters an item (span) message, its value at `[start, end)`. */
  beginItem(spec: MessageSpec, start: number, end: number): void {
    if (spec === TRACE.span) this.current = this.beginSpan(start, end);
  }

  endItem(): void {
    this.current = -1;
  }

  /**
   * Where the fields of a `spec` message being walked go in `data`: the current span's record
   * when it is the Span itself (not its attributes, events or links); -1 when they are not recorded.
   */
  recordsOf(spec: MessageSpec): number {
    return spec === TRACE.span ? this.current : -1;
  }

  /** The walk is about to walk into field `number` of `parent`, a `child` message at `[start, end)`. */
  enterMessage(
    parent: MessageSpec,
    number: number,
    child: MessageSpec,
    start: number,
    end: number,
  ): void {
    if (child === TRACE.resourceSpans) this.addResource();
    else if (parent === TRACE.resourceSpans && number === F_RESOURCE) this.setResource(start, end);
  }

  /**
   * The walk passed field `number` of the span recorded at `at` (`recordsOf`), valid: its value at
   * `[start, end)` (a varint or fixed64 from `start`; a message once walked).
   */
  spanField(at: number, number: number, start: number, end: number): void {
    const data = this.data;
    switch (number) {
      case SPAN.start_time_unix_nano:
        data[at + L_START_TIME] = start;
        break;
      case SPAN.end_time_unix_nano:
        data[at + L_END_TIME] = start;
        break;
      case SPAN.kind:
        data[at + L_KIND] = start;
        break;
      case SPAN.name:
        data[at + L_NAME] = start;
        data[at + L_NAME_END] = end;
        break;
      case SPAN.trace_id:
        data[at + L_TRACE_ID] = start;
        break;
      case SPAN.span_id:
        data[at + L_SPAN_ID] = start;
        break;
      case SPAN.parent_span_id:
        data[at + L_PARENT_SPAN_ID] = end - start === 8 ? start : -1;
        break;
      case SPAN.status:
        data[at + L_STATUS] = start;
        data[at + L_STATUS_END] = end;
        break;
      case SPAN.attributes:
        // An attribute anomaly.*: the span was tagged before (detection).
        if (data[at + L_ANOMALY] !== 1 && isAnomalyKeyValue(this.bytes, start, end)) {
          data[at + L_ANOMALY] = 1;
        }
        if (data[at + L_CODE_ATTR]! < 0 && mayBeStatusCode(this.bytes, start, end)) {
          data[at + L_CODE_ATTR] = start;
          data[at + L_CODE_ATTR_END] = end;
        }
        break;
    }
  }

  /** A ResourceSpans begins: the spans that follow belong to it. */
  private addResource(): void {
    this.pending = true;
    this.pendingStart = -1;
    this.pendingEnd = -1;
  }

  private setResource(start: number, end: number): void {
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
  private beginSpan(start: number, end: number): number {
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
