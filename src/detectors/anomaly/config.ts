import { Cron } from 'croner';
import { z } from 'zod';
import { duration } from '../../config/schema.js';
import { incidentsSchema } from './incidents/config.js';
import { severitySetting } from './internal/severity.js';
import { isValidTimeZone } from './internal/time-buckets.js';

/** The settings of the `anomaly` processor; README.md documents each with its default. */

const percentile = (fallback: number) =>
  z.number().gt(50, 'must be above 50').lt(100, 'must be below 100').default(fallback);

/** Five values that must grow from sev5 to sev1. */
function increasing(v: Record<'sev5' | 'sev4' | 'sev3' | 'sev2' | 'sev1', number>): boolean {
  return v.sev5 < v.sev4 && v.sev4 < v.sev3 && v.sev3 < v.sev2 && v.sev2 < v.sev1;
}

const cron = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .superRefine((v, ctx) => {
      try {
        new Cron(v, { paused: true }).stop();
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `"${v}" is not a cron expression (${err instanceof Error ? err.message : String(err)}); write e.g. "0 3 * * *"`,
        });
      }
    });

export const anomalyProcessorSchema = z.strictObject({
  storage: z
    .string()
    .min(1)
    .default('./data/hourglass.db')
    .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^postgres(ql)?:\/\//i.test(v), {
      message: 'must be a SQLite file path or a PostgreSQL URL (postgres://user@host:5432/db)',
    }),
  // The shared database when `storage` is a postgres:// URL (ignored for a SQLite file).
  postgres: z
    .strictObject({
      password_file: z.string().min(1).optional(),
      ca_file: z.string().min(1).optional(),
      instance: z.string().min(1).max(200).optional(),
      timeout: duration(5000).refine((ms) => ms >= 100, { message: 'must be at least 100ms' }),
    })
    .prefault({ timeout: '5s' }),
  timezone: z.string().default('UTC').refine(isValidTimeZone, {
    message: 'is not an IANA time zone; write e.g. "UTC" or "Europe/Berlin"',
  }),
  window_days: z.number().int().min(1).max(366).default(30),
  min_samples: z.number().int().min(2).default(30),
  min_delta_ms: z.number().nonnegative().default(5),
  min_severity: severitySetting('SEV5'),
  severity_percentiles: z
    .strictObject({
      sev5: percentile(99),
      sev4: percentile(99.5),
      sev3: percentile(99.9),
      sev2: percentile(99.99),
      sev1: percentile(99.999),
    })
    .prefault({})
    .refine(increasing, { message: 'must grow from sev5 to sev1' }),
  fixed_thresholds: z
    .strictObject({
      sev5: z.number().positive().default(3),
      sev4: z.number().positive().default(4),
      sev3: z.number().positive().default(5),
      sev2: z.number().positive().default(7),
      sev1: z.number().positive().default(10),
    })
    .prefault({})
    .refine(increasing, { message: 'must grow from sev5 to sev1' }),
  recalculation: z
    .strictObject({
      enabled: z.boolean().default(true),
      schedule: cron('0 3 * * *'),
    })
    .prefault({}),
  flush_interval: duration(10_000).refine((ms) => ms >= 100, { message: 'must be at least 100ms' }),
  history_retention: duration(30 * 24 * 3_600_000),
  max_history_pending: z.number().int().positive().default(10_000),
  /** Rows of the anomaly history kept at most (about 530 bytes each in SQLite): the oldest go first. */
  max_history: z.number().int().min(1000).max(1_000_000_000).default(2_000_000),
  exclude_severe_from_baseline: z.boolean().default(true),
  learn_from_errors: z.boolean().default(false),
  max_keys: z.number().int().positive().default(10_000),
  latency: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  errors: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  traffic: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  key_attributes: z
    .array(z.string().min(1).max(128))
    .max(8)
    .default([])
    .refine((keys) => new Set(keys).size === keys.length, { message: 'lists an attribute twice' }),
  incidents: incidentsSchema,
});

export type AnomalyProcessorConfig = z.output<typeof anomalyProcessorSchema>;

export function createDefaultConfig(): AnomalyProcessorConfig {
  return anomalyProcessorSchema.parse({});
}

/** `[sev5, sev4, sev3, sev2, sev1]` of a per-severity setting. */
export function bySeverity(v: AnomalyProcessorConfig['fixed_thresholds']): number[] {
  return [v.sev5, v.sev4, v.sev3, v.sev2, v.sev1];
}
