import type { ProcessorFactory } from '../../component/factory.js';
import { BatchProcessor } from './batch-processor.js';
import { batchSchema, type BatchConfig } from './config.js';

export const batchProcessorFactory: ProcessorFactory<BatchConfig> = {
  kind: 'processor',
  type: 'batch',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: batchSchema,
  create: (settings, config, signal, next) => new BatchProcessor(settings, config, signal, next),
};
