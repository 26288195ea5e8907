import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinFactories } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import { staticResolver } from '../../../src/config/validate.js';
import {
  createDefaultConfig,
  llmSummaryExporterSchema,
} from '../../../src/connectors/llm-summary/config.js';
import {
  DEFAULT_ALLOW,
  DEFAULT_DENY,
} from '../../../src/connectors/llm-summary/internal/redaction/redact.js';
import { configProblems } from '../../helpers/config-problems.js';

async function problems(settings: string): Promise<string[]> {
  const yaml = `
receivers: { otlp: { protocols: { http: {} } } }
exporters: { debug: {} }
connectors:
  llm_summary:
${settings}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [llm_summary] }
    traces/summaries: { receivers: [llm_summary], exporters: [debug] }
`;
  return configProblems(yaml);
}

describe('llm_summary config', () => {
  it('defaults to the built-in summarizer, usable on a machine without a model', () => {
    expect(createDefaultConfig()).toEqual({
      provider: 'builtin',
      endpoint: '',
      model: 'builtin',
      headers: {},
      ollama_api: 'generate',
      stream: false,
      temperature: 0.2,
      repeat_penalty: 1.1,
      max_tokens: 300,
      timeout: 30_000,
      max_response_bytes: 1 << 20,
      min_severity: 3,
      trace_window: 10_000,
      batch: { timeout: 30_000, max_anomalies: 10 },
      queue_size: 100,
      max_concurrency: 1,
      fallback: 'builtin',
      circuit_breaker: { failure_threshold: 5, open_duration: 60_000 },
      limits: { max_traces: 1000, max_spans_per_trace: 500, max_bytes_mib: 32 },
      redaction: {
        allow_attributes: [...DEFAULT_ALLOW],
        deny_attributes: [...DEFAULT_DENY],
        extra_deny_attributes: [],
        mask_values: true,
      },
      metrics: { window: 300_000, max_services: 1000 },
      cost: { prompt_per_1k_tokens: 0, completion_per_1k_tokens: 0 },
      storage: './data/summaries.db',
      retention: 30 * 24 * 3_600_000,
    });
  });

  it('fills in the endpoint and model of each provider', () => {
    expect(llmSummaryExporterSchema.parse({ provider: 'ollama' })).toMatchObject({
      endpoint: 'http://localhost:11434',
      model: 'llama3.2:1b',
    });
    expect(llmSummaryExporterSchema.parse({ provider: 'openai' })).toMatchObject({
      endpoint: 'https://api.openai.com',
      model: 'gpt-4o-mini',
    });
    expect(
      llmSummaryExporterSchema.parse({
        provider: 'openai',
        endpoint: 'http://vllm:8000/v1',
        model: 'm',
      }),
    ).toMatchObject({ endpoint: 'http://vllm:8000/v1', model: 'm' });
    expect(
      llmSummaryExporterSchema.parse({ prometheus: { endpoint: 'http://p:9090' } }).prometheus,
    ).toEqual({
      endpoint: 'http://p:9090',
      headers: {},
      timeout: 5_000,
      queries: {
        cpu: 'sum(rate(process_cpu_seconds_total{job="$service"}[1m])) * 100',
        memory: 'sum(process_resident_memory_bytes{job="$service"})',
      },
    });
  });

  it('reports every problem with its path', async () => {
    expect(
      await problems(`
    provider: claude
    endpoint: localhost:11434
    min_severity: SEV9
    trace_window: 10
    batch: { max_anomalies: 0, size: 3 }
    prometheus: { endpoint: http://p:9090, queries: { gpu: 'x' } }
    webhook: {}
`),
    ).toEqual([
      'connectors.llm_summary.provider: "claude" is not one of "builtin", "ollama", "openai"',
      'connectors.llm_summary.endpoint: must be an http(s) URL such as "http://localhost:11434"',
      'connectors.llm_summary.min_severity: "SEV9" is not a severity: write SEV1 .. SEV5',
      'connectors.llm_summary.trace_window: expected a duration with a unit such as "5s" or "200ms", got 10',
      'connectors.llm_summary.batch.max_anomalies: must be at least 1, got number 0',
      'connectors.llm_summary.batch.size: unknown setting',
      'connectors.llm_summary.prometheus.queries.gpu: unknown reading; use cpu, memory, request_rate, error_rate, latency_p50, latency_p95, latency_p99',
      'connectors.llm_summary.webhook.endpoint: expected a string, got nothing',
    ]);
  });

  it('says when a model setting is given to the builtin provider', async () => {
    expect(await problems(`    model: llama3.2:1b\n    api_key: x`)).toEqual([
      'connectors.llm_summary.model: is not used by the builtin provider; set provider to ollama or openai',
      'connectors.llm_summary.api_key: is not used by the builtin provider; set provider to ollama or openai',
    ]);
  });
});

describe('the commented example in otel-config.yaml', () => {
  it('is valid once uncommented and listed in the pipelines', async () => {
    const shipped = readFileSync(
      fileURLToPath(new URL('../../../otel-config.yaml', import.meta.url)),
      'utf8',
    );
    // Only the llm_summary block: the lines after `  # llm_summary:` that stay indented under it.
    const block = /^ {2}# llm_summary:.*\n(?: {2}# {3}.*\n)*/m;
    const text = shipped
      .replace(block, (b) => b.replace(/^ {2}# (llm_summary:| {2}[a-z_]+:.*)$/gm, '  $1'))
      .replace(/^ {4}# (traces\/summaries:.*| {2}(receivers|exporters):.*)$/gm, '    $1')
      .replace('exporters: [otlp/jaeger] #', 'exporters: [otlp/jaeger, llm_summary] #')
      .replace('exporters: [debug] # [debug, llm_summary]', 'exporters: [debug, llm_summary] #');
    const config = await loadConfigText(
      text,
      'otel-config.yaml',
      staticResolver(builtinFactories()),
      {},
    );
    expect(config.connectors.get('llm_summary')!.config).toMatchObject({
      provider: 'builtin',
      min_severity: 3,
      batch: { timeout: 30_000, max_anomalies: 10 },
      storage: './data/summaries.db',
    });
    expect(config.service.pipelines.find((p) => p.id === 'metrics')!.exporters).toEqual([
      'debug',
      'llm_summary',
    ]);
    expect(config.service.pipelines.find((p) => p.id === 'traces')!.exporters).toEqual([
      'otlp/jaeger',
      'llm_summary',
    ]);
    expect(config.service.pipelines.find((p) => p.id === 'traces/summaries')).toMatchObject({
      receivers: ['llm_summary'],
      exporters: ['otlp/jaeger'],
    });
  });
});
