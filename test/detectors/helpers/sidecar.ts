import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import type { Clock } from '../../../src/component/clock.js';
import type { AnyFactory } from '../../../src/component/factory.js';
import { builtinFactories } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import { staticResolver } from '../../../src/config/validate.js';
import type { AnomalyProcessor } from '../../../src/detectors/anomaly/anomaly-processor.js';
import type { AnomalyDetector } from '../../../src/detectors/anomaly/detector.js';
import type { OtlpReceiver } from '../../../src/receiver/otlp/otlp-receiver.js';
import { startFromConfig, type Sidecar } from '../../../src/main.js';
import { silentLogger } from '../../../src/telemetry/logger.js';

/** A pino logger that keeps its JSON lines, to assert what was logged. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as never);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export interface TestSidecarOptions {
  readonly clock: Clock;
  /** Settings of the `anomaly` processor. */
  readonly anomaly: Record<string, unknown>;
  readonly factories?: readonly AnyFactory[];
  /** Exporter ids of the traces pipeline (default: `capture`). */
  readonly exporters?: Record<string, unknown>;
  readonly extensions?: Record<string, unknown>;
  readonly logger?: Logger;
}

/**
 * Starts the real sidecar (receiver on 127.0.0.1:0, the anomaly processor, the given exporters)
 * from YAML, as `hourglass run` would, with an injected clock.
 */
export async function startTestSidecar(o: TestSidecarOptions): Promise<Sidecar> {
  const exporters = o.exporters ?? { capture: {} };
  const doc = {
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
    processors: { anomaly: o.anomaly },
    exporters,
    extensions: o.extensions ?? {},
    service: {
      extensions: Object.keys(o.extensions ?? {}),
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['anomaly'], exporters: Object.keys(exporters) },
      },
      telemetry: { metrics: { level: 'none' } },
    },
  };
  const factories = builtinFactories(o.factories ?? []);
  const config = await loadConfigText(stringify(doc), 'test.yaml', staticResolver(factories));
  return startFromConfig(config, { clock: o.clock, logger: o.logger ?? silentLogger() });
}

export function detectorOf(sidecar: Sidecar, id = 'anomaly'): AnomalyDetector {
  return sidecar.service.find<AnomalyProcessor>('processor', id)!.detector;
}

export function httpEndpoint(sidecar: Sidecar): string {
  const receiver = sidecar.service.find<OtlpReceiver>('receiver', 'otlp')!;
  return `http://${receiver.addresses().http!}`;
}
