import type { Clock, Timer } from '../../../component/clock.js';
import { errorMessage } from '../../../component/errors.js';
import type { Logger } from 'pino';
import type { LlmSummaryExporterConfig } from '../config.js';
import type { Incidents } from './incidents.js';
import { PrometheusSource } from './metrics/index.js';
import { makeProvider } from './make-provider.js';
import type { Provider } from './providers/index.js';
import { SummaryStore } from './store/summary-store.js';
import { Webhook } from './publishing/index.js';

const RETENTION_EVERY_MS = 3_600_000;

/** What an engine talks to outside the pipeline: the model, the store, the webhook, Prometheus. */
export interface Outside {
  /** Undefined for the built-in summarizer. */
  readonly provider: Provider | undefined;
  /** Undefined when the store could not be opened (summaries are still published). */
  readonly store: SummaryStore | undefined;
  readonly webhook: Webhook | undefined;
  readonly prometheus: PrometheusSource | undefined;
  close(): Promise<void>;
}

/**
 * Opens what the config names. A summary store that cannot be opened is logged and left out (the
 * summaries still go to the trace, the history and the webhook); its retention runs hourly.
 */
export function openOutside(
  config: LlmSummaryExporterConfig,
  clock: Clock,
  logger: Logger,
  incidents: Incidents,
): Outside {
  let store: SummaryStore | undefined;
  try {
    store = new SummaryStore(config.storage);
    store.deleteUnratedBefore(clock.now() - config.retention);
  } catch (err) {
    logger.error(
      { err, storage: config.storage },
      'cannot open the summary store: summaries are published, but not kept for feedback and training',
    );
  }
  let retention: Timer | undefined;
  if (store) {
    const s = store;
    retention = clock
      .setInterval(() => {
        try {
          s.deleteUnratedBefore(clock.now() - config.retention);
        } catch (err) {
          incidents.failed('retention', `summary retention failed: ${errorMessage(err)}`, err);
        }
      }, RETENTION_EVERY_MS)
      .unref();
  }
  const w = config.webhook;
  const p = config.prometheus;
  const provider = makeProvider(config, clock);
  const webhook = w ? new Webhook(w.endpoint, w.headers, w.timeout, clock) : undefined;
  const prometheus = p
    ? new PrometheusSource(p.endpoint, p.queries, p.headers, p.timeout, clock)
    : undefined;
  return {
    provider,
    store,
    webhook,
    prometheus,
    async close() {
      retention?.cancel();
      store?.close();
      await Promise.all([provider?.close(), webhook?.close(), prometheus?.close()]);
    },
  };
}
