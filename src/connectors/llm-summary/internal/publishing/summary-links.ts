import type { Host } from '../../../../component/component.js';
import type { Consumer } from '../../../../component/consumer.js';
import { SUMMARY_SINK, type SummarySink } from '../../../../detectors/anomaly/contract.js';

/** Where a connector's summaries go besides its store and webhook. */
export interface SummaryLinks {
  /** The traces pipelines that list the connector under `receivers` (summary spans). */
  readonly spans: Consumer | undefined;
  /** The anomaly history of the anomaly processors in the connector's pipelines. */
  readonly historySinks: readonly SummarySink[];
}

/**
 * The summary sinks (the anomaly processors' histories, a capability) offered in the pipelines
 * this connector is in: each summary joins the history of the anomalies it explains.
 */
export function summaryLinks(host: Host, id: string, spans: Consumer | undefined): SummaryLinks {
  const self = host.components().find((c) => c.kind === 'connector' && c.id === id);
  const pipelines = new Set(self?.pipelines ?? []);
  const sinks = new Set<SummarySink>();
  for (const p of host.lookup(SUMMARY_SINK)) {
    if (p.pipelines.some((x) => pipelines.has(x))) sinks.add(p.value);
  }
  return { spans, historySinks: [...sinks] };
}
