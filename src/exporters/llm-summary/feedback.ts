import type { Host } from '../../component/component.js';
import type { SummaryStore } from './internal/summary-store.js';

/** An `llm_summary` exporter's summary store, as the admin API finds it. */
export interface SummarySource {
  readonly id: string;
  /** Undefined when the exporter could not open its store. */
  readonly store: SummaryStore | undefined;
}

/**
 * The summary stores of the running `llm_summary` exporters (one per exporter id; `exporter`
 * narrows to one). Found by shape, so an `llm_summary` loaded as a plugin is found too.
 */
export function summarySources(host: Host | undefined, exporter?: string): SummarySource[] {
  const out = new Map<string, SummarySource>();
  for (const c of host?.components() ?? []) {
    if (c.kind !== 'exporter' || (exporter !== undefined && c.id !== exporter)) continue;
    const engine = (c.instance as { engine?: { summaries?: unknown } }).engine;
    if (!engine || !('summaries' in engine) || out.has(c.id)) continue;
    out.set(c.id, { id: c.id, store: engine.summaries as SummaryStore | undefined });
  }
  return [...out.values()];
}
