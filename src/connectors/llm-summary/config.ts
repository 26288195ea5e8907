import { z } from 'zod';
import { duration, headers } from '../../config/schema.js';
import { severitySetting } from '../../detectors/anomaly/contract.js';
import { READINGS, type Reading, DEFAULT_QUERIES } from './internal/metrics/index.js';
import { DEFAULT_ALLOW, DEFAULT_DENY } from './internal/redaction/redact.js';

/** The settings of the `llm_summary` connector; README.md documents each with its default. */

/** A nested object whose fields all have defaults (`duration()` keys read as optional at run time). */
const defaults = <T extends z.ZodType>(schema: T) => z.prefault(schema, {} as z.input<T>);

const url = (example: string) =>
  z.url({ protocol: /^https?$/, error: `must be an http(s) URL such as "${example}"` });

const readingQueries = z
  .record(z.string(), z.string().min(1))
  .superRefine((v, ctx) => {
    for (const k of Object.keys(v)) {
      if (!(READINGS as readonly string[]).includes(k)) {
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `unknown reading; use ${READINGS.join(', ')}`,
        });
      }
    }
  })
  .transform((v) => v as Partial<Record<Reading, string>>);

const PROVIDER_DEFAULTS = {
  builtin: { endpoint: '', model: 'builtin' },
  ollama: { endpoint: 'http://localhost:11434', model: 'llama3.2:1b' },
  openai: { endpoint: 'https://api.openai.com', model: 'gpt-4o-mini' },
} as const;

export const llmSummaryExporterSchema = z
  .strictObject({
    provider: z.enum(['builtin', 'ollama', 'openai']).default('builtin'),
    endpoint: url('http://localhost:11434').optional(),
    model: z.string().min(1).optional(),
    api_key: z.string().optional(),
    headers,
    ollama_api: z.enum(['generate', 'chat']).default('generate'),
    stream: z.boolean().default(false),
    temperature: z.number().min(0).max(2).default(0.2),
    repeat_penalty: z.number().min(0).max(3).default(1.1),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    max_tokens: z.number().int().min(16).max(8192).default(300),
    timeout: duration(30_000).refine((ms) => ms >= 100, { message: 'must be at least 100ms' }),
    max_response_bytes: z
      .number()
      .int()
      .min(1024)
      .default(1 << 20),
    min_severity: severitySetting('SEV3'),
    trace_window: duration(10_000),
    batch: defaults(
      z.strictObject({
        timeout: duration(30_000),
        max_anomalies: z.number().int().min(1).max(1000).default(10),
      }),
    ),
    queue_size: z.number().int().min(1).default(100),
    max_concurrency: z.number().int().min(1).max(64).default(1),
    fallback: z.enum(['builtin', 'none']).default('builtin'),
    circuit_breaker: defaults(
      z.strictObject({
        failure_threshold: z.number().int().min(1).default(5),
        open_duration: duration(60_000),
      }),
    ),
    limits: z
      .strictObject({
        max_traces: z.number().int().min(1).default(1000),
        max_spans_per_trace: z.number().int().min(1).default(500),
        max_bytes_mib: z.number().positive().default(32),
      })
      .prefault({}),
    redaction: z
      .strictObject({
        allow_attributes: z.array(z.string()).default([...DEFAULT_ALLOW]),
        deny_attributes: z.array(z.string()).default([...DEFAULT_DENY]),
        extra_deny_attributes: z.array(z.string()).default([]),
        mask_values: z.boolean().default(true),
      })
      .prefault({}),
    metrics: defaults(
      z.strictObject({
        window: duration(300_000),
        max_services: z.number().int().min(1).default(1000),
      }),
    ),
    prometheus: z
      .strictObject({
        endpoint: url('http://prometheus:9090'),
        headers,
        timeout: duration(5_000),
        queries: readingQueries.default({ ...DEFAULT_QUERIES }),
      })
      .optional(),
    cost: z
      .strictObject({
        prompt_per_1k_tokens: z.number().nonnegative().default(0),
        completion_per_1k_tokens: z.number().nonnegative().default(0),
      })
      .prefault({}),
    webhook: z
      .strictObject({
        endpoint: url('https://hooks.slack.com/services/T000/B000/XXXX'),
        headers,
        timeout: duration(10_000),
      })
      .optional(),
    jaeger_ui_url: url('http://localhost:16686')
      .optional()
      .transform((v) => v?.replace(/\/+$/, '')),
    storage: z.string().min(1).default('./data/summaries.db'),
    retention: duration(30 * 24 * 3_600_000),
  })
  .superRefine((c, ctx) => {
    if (c.provider === 'builtin') {
      for (const key of ['endpoint', 'model', 'api_key'] as const) {
        if (c[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `is not used by the builtin provider; set provider to ollama or openai`,
          });
        }
      }
    }
  })
  .transform((c) => ({
    ...c,
    endpoint: c.endpoint ?? PROVIDER_DEFAULTS[c.provider].endpoint,
    model: c.model ?? PROVIDER_DEFAULTS[c.provider].model,
  }));

export type LlmSummaryExporterConfig = z.output<typeof llmSummaryExporterSchema>;

export function createDefaultConfig(): LlmSummaryExporterConfig {
  return llmSummaryExporterSchema.parse({});
}
