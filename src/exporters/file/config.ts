import { z } from 'zod';
import { duration } from '../../config/schema.js';
import { requiredString } from '../helper/config.js';

const rotation = z.strictObject({
  /** Rotate once the file would grow past this size. */
  max_megabytes: z.number().positive().default(100),
  /** Rotated files kept (the oldest are deleted); 0 keeps them all. */
  max_backups: z.number().int().nonnegative().default(100),
});

export const fileExporterSchema = z.strictObject({
  /** The file written (appended to), one OTLP/JSON export request per line. */
  path: requiredString('the file to write, e.g. "./data/spans.jsonl"', (v, ctx) => {
    if (v === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  }),
  /** Only OTLP/JSON lines are written. */
  format: z.enum(['json']).default('json'),
  // `rotation:` with nothing after it turns rotation on with the defaults.
  rotation: z.preprocess((v) => (v === null ? {} : v), rotation.optional()),
  /** Buffered lines are written at least this often. */
  flush_interval: duration(1_000).refine((v) => v > 0, { message: 'must be greater than 0' }),
});

export type FileExporterConfig = z.output<typeof fileExporterSchema>;
