import type { ProcessorFactory } from '../../component/factory.js';
import { memoryLimiterSchema, type MemoryLimiterConfig } from './config.js';
import { MemoryLimiter } from './memory-limiter.js';

export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  kind: 'processor',
  type: 'memory_limiter',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: memoryLimiterSchema,
  create: (settings, config, signal, next) => new MemoryLimiter(settings, config, signal, next),
};
