import { adminExtensionFactory } from './admin/factory.js';
import { makeFactories, type AnyFactory, type Factories } from './component/factory.js';
import { anomalyProcessorFactory } from './detectors/anomaly/factory.js';
import { debugExporterFactory } from './exporters/debug/factory.js';
import { makeFileExporterFactory } from './exporters/file/factory.js';
import { llmSummaryConnectorFactory } from './connectors/llm-summary/factory.js';
import { otlpExporterFactory } from './exporters/otlp/factory.js';
import { otlpHttpExporterFactory } from './exporters/otlphttp/factory.js';
import { bearerTokenAuthFactory } from './extensions/bearertokenauth/factory.js';
import { incidentNotifierFactory } from './extensions/incident-notifier/factory.js';
import { batchProcessorFactory } from './pipeline/batch/factory.js';
import { memoryLimiterFactory } from './pipeline/memory-limiter/factory.js';
import { otlpReceiverFactory } from './receiver/otlp/factory.js';

/**
 * The built-in components, by kind and type. A function, not a module-level registry: each build
 * gets its own factories (some keep per-build state, such as components shared across signals).
 */
export function builtinFactories(extra: readonly AnyFactory[] = []): Factories {
  return makeFactories([
    otlpReceiverFactory,
    memoryLimiterFactory,
    anomalyProcessorFactory(),
    batchProcessorFactory,
    otlpExporterFactory,
    otlpHttpExporterFactory,
    debugExporterFactory,
    makeFileExporterFactory(),
    llmSummaryConnectorFactory(),
    bearerTokenAuthFactory,
    adminExtensionFactory,
    incidentNotifierFactory,
    ...extra,
  ]);
}
