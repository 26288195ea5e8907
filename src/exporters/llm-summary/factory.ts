import type { ExporterFactory } from '../../component/factory.js';
import { llmSummaryExporterSchema, type LlmSummaryExporterConfig } from './config.js';
import { SharedEngine } from './internal/shared-engine.js';
import { LlmSummaryExporter } from './llm-summary-exporter.js';
import { SummaryEngine } from './summary-engine.js';

/**
 * The `llm_summary` exporter factory. A function: each build gets its own factory, holding the
 * engines its traces and metrics instances share (one per exporter id). Written against the
 * plugin interface only, so this module also loads as `plugin/<name>: { module: ... }`.
 */
export function llmSummaryExporterFactory(): ExporterFactory<LlmSummaryExporterConfig> {
  const shared = new Map<string, SharedEngine>();
  return {
    kind: 'exporter',
    type: 'llm_summary',
    signals: ['traces', 'metrics'],
    configSchema: llmSummaryExporterSchema,
    create(settings, config, signal) {
      let s = shared.get(settings.id);
      if (!s) {
        s = new SharedEngine(settings.id, new SummaryEngine(settings, config));
        shared.set(settings.id, s);
      }
      return new LlmSummaryExporter(settings, s, signal);
    },
  };
}

export default llmSummaryExporterFactory;
