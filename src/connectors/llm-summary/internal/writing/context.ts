import type { ConcurrentAnomalies } from '../holding/index.js';
import type { ReadingSummary } from '../metrics/index.js';
import type { AnalysedSpan, TraceAnalysis } from '../../../../analysis/origin.js';

/** Everything a summary is written from (the prompt and the built-in summarizer alike). */
export interface SummaryContext {
  readonly analysis: TraceAnalysis;
  /** Per involved service (origin, chain, siblings), its readings; empty when none came. */
  readonly metrics: ReadonlyMap<string, readonly ReadingSummary[]>;
  readonly concurrent: readonly ConcurrentAnomalies[];
  /** How far back the metrics go, ms (for the wording). */
  readonly metricsWindowMs: number;
  /** How far around the anomaly the concurrent ones were looked for, ms. */
  readonly concurrentWindowMs: number;
}

/** The anomaly users felt: the highest tagged span on the chain, else the anchor. */
export function headline(a: TraceAnalysis): AnalysedSpan {
  return a.chain.find((s) => s.anomaly !== undefined) ?? a.anchor;
}

/** Services whose metrics matter for a trace: the origin's first, then the chain's and siblings'. */
export function involvedServices(a: TraceAnalysis): string[] {
  const out = new Set<string>([a.origin.span.service]);
  for (const s of [...a.chain].reverse()) out.add(s.span.service);
  for (const s of a.siblings) out.add(s.span.service);
  return [...out];
}
