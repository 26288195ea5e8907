import { z } from 'zod';

export const debugExporterSchema = z.strictObject({
  /** basic: one summary line per batch; normal: one line per item; detailed: pretty OTLP/JSON. */
  verbosity: z.enum(['basic', 'normal', 'detailed']).default('basic'),
  /** Batches printed each second before sampling starts. */
  sampling_initial: z.number().int().min(1).default(2),
  /** After that, one batch in this many is printed (per second). */
  sampling_thereafter: z.number().int().min(1).default(1),
});

export type DebugExporterConfig = z.output<typeof debugExporterSchema>;
