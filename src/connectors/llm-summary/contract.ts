import { capability, type Published } from '../../component/capability.js';
import type { SummaryStore } from './internal/store/summary-store.js';

/**
 * What other components may use of `llm_summary` (the admin API's feedback routes): the summary
 * store, offered through the host as a capability. Everything else in this folder is its own.
 */
export type { Feedback, StoredSummary, SummaryStore } from './internal/store/summary-store.js';

/** The summaries of one `llm_summary` connector, for feedback and the training-data export. */
export interface SummaryFeedback {
  /** Undefined until the connector has started, or when it could not open its store. */
  readonly store: SummaryStore | undefined;
}

/** Offered by every `llm_summary` connector (`host.lookup(SUMMARY_STORE)`). */
export const SUMMARY_STORE = capability<SummaryFeedback>('llm_summary.summaries');

/** A connector's summary store, as the admin API lists them. */
export interface SummarySource {
  readonly id: string;
  /** Undefined when the connector could not open its store. */
  readonly store: SummaryStore | undefined;
}

/** The summary stores of the running `llm_summary` connectors (`id` narrows to one). */
export function summarySources(
  published: readonly Published<SummaryFeedback>[],
  id?: string,
): SummarySource[] {
  return published
    .filter((p) => id === undefined || p.id === id)
    .map((p) => ({ id: p.id, store: p.value.store }));
}
