import type { ProcessorFactory } from '../../component/factory.js';
import { AnomalyProcessor } from './anomaly-processor.js';
import { anomalyProcessorSchema, type AnomalyProcessorConfig } from './config.js';
import { AnomalyDetector } from './detector.js';
import { SharedDetector } from './internal/shared-detector.js';

/**
 * The `anomaly` processor factory. A function: each build gets its own factory, holding the
 * detectors shared by the pipelines of that build (one per processor id).
 */
export function anomalyProcessorFactory(): ProcessorFactory<AnomalyProcessorConfig> {
  const shared = new Map<string, SharedDetector>();
  return {
    kind: 'processor',
    type: 'anomaly',
    signals: ['traces'],
    configSchema: anomalyProcessorSchema,
    create(settings, config, signal, next) {
      let s = shared.get(settings.id);
      if (!s) {
        s = new SharedDetector(new AnomalyDetector(settings.id, settings, config));
        shared.set(settings.id, s);
      }
      return new AnomalyProcessor(
        settings,
        s,
        next,
        settings.metrics.processor(settings.id, signal),
      );
    },
  };
}
