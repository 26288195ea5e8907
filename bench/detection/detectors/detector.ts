import type { SimSpan } from '../sim/traffic.js';

export { ladderSeverity, SIGMA_LADDER } from '../../../src/detectors/anomaly/replay/references.js';

/**
 * A detector under test: sees each request (the simulated spans and their OTLP encoding) when it
 * is sent, and answers a severity per span, in the request's order: 0 untagged, 1 (SEV1) .. 5.
 */
export interface BenchDetector {
  readonly name: string;
  /** A one-line description for the report. */
  readonly description: string;
  score(spans: readonly SimSpan[], bytes: Uint8Array, sentAt: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A detector that scores span by span, in the order the spans were sent. */
export abstract class SpanByOneDetector implements BenchDetector {
  abstract readonly name: string;
  abstract readonly description: string;

  /** Severity of one span (scored before it is learned), then learns it. */
  protected abstract scoreSpan(span: SimSpan): number;

  score(spans: readonly SimSpan[]): Promise<Uint8Array> {
    const out = new Uint8Array(spans.length);
    for (let i = 0; i < spans.length; i++) out[i] = this.scoreSpan(spans[i]!);
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
