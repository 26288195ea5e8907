import { z } from 'zod';
import { duration } from '../../config/schema.js';

/**
 * As the Collector's memory_limiter: a hard limit (`limit_mib`, or `limit_percentage` of the
 * container's or machine's memory) and a spike allowance; data is refused above the soft limit
 * (hard limit minus spike).
 */
export const memoryLimiterSchema = z
  .strictObject({
    check_interval: duration(1000),
    limit_mib: z.number().int().nonnegative().default(0),
    spike_limit_mib: z.number().int().nonnegative().default(0),
    limit_percentage: z.number().int().min(0).max(100).default(0),
    spike_limit_percentage: z.number().int().min(0).max(100).default(0),
  })
  .superRefine((c, ctx) => {
    if (c.check_interval <= 0) {
      ctx.addIssue({ code: 'custom', path: ['check_interval'], message: 'must be greater than 0' });
    }
    if (c.limit_mib === 0 && c.limit_percentage === 0) {
      ctx.addIssue({ code: 'custom', message: 'set limit_mib or limit_percentage' });
    }
    if (c.limit_mib > 0 && c.spike_limit_mib >= c.limit_mib) {
      ctx.addIssue({
        code: 'custom',
        path: ['spike_limit_mib'],
        message: 'must be less than limit_mib',
      });
    }
    if (c.limit_percentage > 0 && c.spike_limit_percentage >= c.limit_percentage) {
      ctx.addIssue({
        code: 'custom',
        path: ['spike_limit_percentage'],
        message: 'must be less than limit_percentage',
      });
    }
  });

export type MemoryLimiterConfig = z.output<typeof memoryLimiterSchema>;
