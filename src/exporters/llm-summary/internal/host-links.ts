import type { Exporter, Host } from '../../../component/component.js';
import type { Consumer } from '../../../component/consumer.js';

/** What keeps the anomaly history (the anomaly processor's detector), as far as summaries go. */
export interface SummarySink {
  attachSummary(anomalyIds: readonly string[], summary: string): void;
}

export interface HostLinks {
  /** The trace exporters sharing a traces pipeline with this exporter (not itself). */
  readonly traceExporters: readonly { readonly id: string; readonly consumer: Consumer }[];
  /** The anomaly history of the anomaly processors in those pipelines. */
  readonly historySinks: readonly SummarySink[];
  /** The traces pipelines this exporter is in. */
  readonly pipelines: readonly string[];
}

function isSink(v: unknown): v is SummarySink {
  return typeof (v as Partial<SummarySink> | undefined)?.attachSummary === 'function';
}

/**
 * Finds, through the host, where summaries go: the other exporters of the traces pipelines this
 * exporter is in (summary spans go there, not through the anomaly processor again; exporters that
 * feed exporters themselves are skipped, so summaries never loop), and the anomaly processors of
 * those pipelines (their detectors keep the history).
 */
export function hostLinks(host: Host, id: string): HostLinks {
  const all = host.components();
  const self = all.find((c) => c.kind === 'exporter' && c.id === id && c.signal === 'traces');
  const pipelines = new Set(self?.pipelines ?? []);
  const exporters = new Map<Consumer, string>();
  const sinks = new Set<SummarySink>();
  for (const c of all) {
    if (!c.pipelines.some((p) => pipelines.has(p))) continue;
    if (c.kind === 'exporter' && c.signal === 'traces' && c.id !== id) {
      const e = c.instance as Exporter;
      if (e.feedsPipelineExporters !== true) exporters.set(e, c.id);
    } else if (c.kind === 'processor') {
      const detector = (c.instance as { detector?: unknown }).detector;
      if (isSink(detector)) sinks.add(detector);
    }
  }
  return {
    traceExporters: [...exporters].map(([consumer, eid]) => ({ id: eid, consumer })),
    historySinks: [...sinks],
    pipelines: [...pipelines],
  };
}
