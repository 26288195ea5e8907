import { z } from 'zod';
import { duration } from '../../config/schema.js';

export const batchSchema = z
  .strictObject({
    /** Items (spans, data points, log records) that trigger a send, as in the Collector. */
    send_batch_size: z.number().int().positive().default(8192),
    /** Upper bound of items per sent batch; 0 means no bound. Must be >= send_batch_size. */
    send_batch_max_size: z.number().int().nonnegative().default(0),
    /** A non-empty batch is sent after this long even if it is not full. */
    timeout: duration(200),
    /**
     * Items held at most (in the batch being built plus batches the next component refused and
     * that wait to be retried). Past it, new data is refused with 429 / RESOURCE_EXHAUSTED.
     */
    max_pending_items: z.number().int().positive().default(65536),
  })
  .refine((c) => c.send_batch_max_size === 0 || c.send_batch_max_size >= c.send_batch_size, {
    message: 'send_batch_max_size must be 0 or at least send_batch_size',
    path: ['send_batch_max_size'],
  });

export type BatchConfig = z.output<typeof batchSchema>;
