import { systemClock, type Clock } from '../../../src/component/clock.js';
import { anomalyProcessorSchema } from '../../../src/detectors/anomaly/config.js';
import { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';

/**
 * A started detector outside any pipeline (a child process of a test, the benchmarks), on `storage`
 * with the given settings; scheduled recalculation off, and a flush only when called.
 */
export async function standaloneDetector(
  storage: string,
  settings: Record<string, unknown> = {},
  clock: Clock = systemClock,
  /** `fleetSchema`: a shared database's schema to run (a previous release's). */
  options: { readonly fleetSchema?: number } = {},
): Promise<AnomalyDetector> {
  const config = anomalyProcessorSchema.parse({
    storage,
    flush_interval: '1h',
    recalculation: { enabled: false },
    ...settings,
  });
  const detector = new AnomalyDetector(
    'anomaly',
    {
      id: 'anomaly',
      logger: silentLogger(),
      clock,
      metrics: new SelfMetrics({ processMetrics: false }),
    },
    config,
    options,
  );
  await detector.start();
  return detector;
}
