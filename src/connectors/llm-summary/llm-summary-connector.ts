import { provide, type Provided } from '../../component/capability.js';
import type { Connector, Host } from '../../component/component.js';
import type { Consumer, OtlpBatch, Signal } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import type { ExporterMetrics } from '../../telemetry/self-metrics.js';
import { notRunning } from '../../exporters/helper/not-running.js';
import type { LlmSummaryExporterConfig } from './config.js';
import { SUMMARY_STORE } from './contract.js';
import { SummaryEngine } from './summary-engine.js';

/**
 * The `llm_summary` connector: an exporter of the traces pipelines (anomalous traces to summarize)
 * and metrics pipelines (the metrics window) that list it, and a receiver of the traces pipelines
 * that list it under `receivers` (the summary spans it writes go there, e.g. to Jaeger).
 * `consume()` never waits for a model or a network: it hands the request to the engine, which
 * copies the little it keeps, and resolves, so the fan-out to the other exporters is never delayed
 * by it. The service starts it after the pipelines it feeds and stops it before them, so what it
 * flushes on shutdown still has somewhere to go.
 */
export class LlmSummaryConnector implements Connector {
  readonly engine: SummaryEngine;
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private stopping: Promise<void> | undefined;
  private readonly metrics: Partial<Record<Signal, ExporterMetrics>> = {};

  constructor(
    private readonly settings: CreateSettings,
    config: LlmSummaryExporterConfig,
    next: Partial<Record<Signal, Consumer>>,
  ) {
    this.engine = new SummaryEngine(settings, config, next.traces);
  }

  capabilities(): readonly Provided[] {
    const engine = this.engine;
    return [
      provide(SUMMARY_STORE, {
        get store() {
          return engine.summaries;
        },
      }),
    ];
  }

  async start(host: Host): Promise<void> {
    await this.engine.start(host);
    this.state = 'running';
  }

  consume(batch: OtlpBatch): Promise<void> {
    if (this.state !== 'running') {
      return Promise.reject(
        notRunning(this.settings.id, this.state === 'created' ? 'created' : 'stopped'),
      );
    }
    if (batch.signal === 'traces') this.engine.consumeTraces(batch.bytes);
    else if (batch.signal === 'metrics') this.engine.consumeMetrics(batch.bytes);
    (this.metrics[batch.signal] ??= this.settings.metrics.exporter(
      this.settings.id,
      batch.signal,
    )).sent(batch.items);
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const wasRunning = this.state === 'running';
      this.state = 'stopping';
      if (wasRunning) await this.engine.shutdown();
      this.state = 'stopped';
    })();
    return this.stopping;
  }
}
