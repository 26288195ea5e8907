import { adminExtensionFactory } from './admin/factory.js';
import { makeFactories, type AnyFactory, type Factories } from './component/factory.js';
import { anomalyProcessorFactory } from './detectors/anomaly/factory.js';
import { otlpReceiverFactory } from './receiver/otlp/factory.js';

/**
 * The built-in components, by kind and type. A function, not a module-level registry: each build
 * gets its own factories (some keep per-build state, such as components shared across signals).
 */
export function builtinFactories(extra: readonly AnyFactory[] = []): Factories {
  return makeFactories([
    otlpReceiverFactory,
    anomalyProcessorFactory(),
    adminExtensionFactory,
    ...extra,
  ]);
}
