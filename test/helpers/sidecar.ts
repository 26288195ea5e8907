import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Clock } from '../../src/component/clock.js';
import type { AnyFactory } from '../../src/component/factory.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import { startFromConfig, type Sidecar } from '../../src/main.js';
import type { OtlpReceiver } from '../../src/receiver/otlp/otlp-receiver.js';

export interface TestSidecar extends Sidecar {
  /** Bound OTLP addresses of the `otlp` receiver (`127.0.0.1:port`). */
  grpc: string;
  http: string;
  /** `http://127.0.0.1:port` of the telemetry endpoint, when enabled. */
  telemetryUrl: string | undefined;
}

/** A quiet logger for tests (set HOURGLASS_TEST_LOGS=1 to see the sidecar's logs). */
export function testLogger(): Logger {
  return pino({ level: process.env['HOURGLASS_TEST_LOGS'] ? 'debug' : 'silent' });
}

/**
 * Starts a real sidecar in this process from YAML text, with extra factories (such as the capture
 * exporter) next to the built-in ones. Register `sidecar.shutdown` as cleanup.
 */
export async function startTestSidecar(
  yaml: string,
  options: { factories?: AnyFactory[]; clock?: Clock; env?: Record<string, string> } = {},
): Promise<TestSidecar> {
  const factories = builtinFactories(options.factories ?? []);
  const config = await loadConfigText(
    yaml,
    'test.yaml',
    staticResolver(factories),
    options.env ?? {},
  );
  const sidecar = await startFromConfig(config, { logger: testLogger(), clock: options.clock });
  const receiver = sidecar.service.find<OtlpReceiver>('receiver', 'otlp');
  const addresses = receiver?.addresses() ?? { grpc: undefined, http: undefined };
  const telemetry = sidecar.telemetry?.boundAddress();
  return Object.assign(sidecar, {
    grpc: addresses.grpc ?? '',
    http: addresses.http ?? '',
    telemetryUrl: telemetry ? `http://${telemetry}` : undefined,
  });
}
