import { L_END_TIME, L_START_TIME, L_STRIDE } from '../../src/otlp/span-layout.js';
import { validateRequest } from '../../src/otlp/validate.js';

/**
 * Moves every span of encoded trace requests in time, in place: their start and end times (the
 * fixed64 fields the receiver's layout records) shift by the same amount, so durations, sizes
 * and every other byte stay as they were, and layouts made of the requests stay valid.
 */
export class Restamper {
  private readonly at: { view: DataView; offsets: Int32Array }[] = [];

  constructor(requests: readonly Uint8Array[]) {
    for (const bytes of requests) {
      const layout = validateRequest('traces', bytes, { layout: true }).layout!;
      const offsets = new Int32Array(layout.count * 2);
      for (let i = 0; i < layout.count; i++) {
        offsets[2 * i] = layout.data[i * L_STRIDE + L_START_TIME]!;
        offsets[2 * i + 1] = layout.data[i * L_STRIDE + L_END_TIME]!;
      }
      this.at.push({
        view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        offsets,
      });
    }
  }

  /** Shifts every span by `ms` (whole milliseconds). */
  shift(ms: number): void {
    const ns = BigInt(ms) * 1_000_000n;
    for (const { view, offsets } of this.at) {
      for (const o of offsets) {
        if (o >= 0) view.setBigUint64(o, view.getBigUint64(o, true) + ns, true);
      }
    }
  }
}
