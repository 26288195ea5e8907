import type { ConnectorFactory } from '../../component/factory.js';
import { llmSummaryExporterSchema, type LlmSummaryExporterConfig } from './config.js';
import { LlmSummaryConnector } from './llm-summary-connector.js';

/**
 * The `llm_summary` connector factory: from traces (and metrics, for its metrics window) to traces
 * (the summary spans). A function, as plugin factories may be. Written against the plugin
 * interface only, so this module also loads as `connectors: { plugin/<name>: { module: ... } }`.
 */
export function llmSummaryConnectorFactory(): ConnectorFactory<LlmSummaryExporterConfig> {
  return {
    kind: 'connector',
    type: 'llm_summary',
    from: ['traces', 'metrics'],
    to: ['traces'],
    usage:
      'list it under "exporters" of the traces pipeline (and of the metrics pipeline, for its metrics window) and under "receivers" of a pipeline that sends the summary spans on, e.g. "traces/summaries: {receivers: [llm_summary], exporters: [otlp/jaeger]}" (see src/connectors/llm-summary/README.md)',
    configSchema: llmSummaryExporterSchema,
    create: (settings, config, next) => new LlmSummaryConnector(settings, config, next),
  };
}

export default llmSummaryConnectorFactory;
