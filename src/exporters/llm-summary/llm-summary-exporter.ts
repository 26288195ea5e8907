import type { Exporter, Host } from '../../component/component.js';
import type { OtlpBatch, Signal } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import type { ExporterMetrics } from '../../telemetry/self-metrics.js';
import { notRunning } from '../helper/not-running.js';
import type { SharedEngine } from './internal/shared-engine.js';
import type { SummaryEngine } from './summary-engine.js';

/**
 * The `llm_summary` exporter in one signal: traces feed the anomaly summaries, metrics feed the
 * metrics window. `consume()` never waits for a model or a network: it hands the request to the
 * engine, which copies the little it keeps, and resolves, so the fan-out to the other exporters
 * (Jaeger) is never delayed by it. It sends summary spans into the trace exporters next to it,
 * so the service starts it after them and stops it before them.
 */
export class LlmSummaryExporter implements Exporter {
  readonly feedsPipelineExporters = true;
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private stopping: Promise<void> | undefined;
  private readonly metrics: ExporterMetrics;

  constructor(
    settings: CreateSettings,
    private readonly shared: SharedEngine,
    private readonly signal: Signal,
  ) {
    this.metrics = settings.metrics.exporter(settings.id, signal);
  }

  get engine(): SummaryEngine {
    return this.shared.engine;
  }

  async start(host: Host): Promise<void> {
    await this.shared.acquire(host);
    this.state = 'running';
  }

  consume(batch: OtlpBatch): Promise<void> {
    if (this.state !== 'running') {
      return Promise.reject(
        notRunning(this.shared.id, this.state === 'created' ? 'created' : 'stopped'),
      );
    }
    if (batch.signal === 'traces') this.engine.consumeTraces(batch.bytes);
    else if (batch.signal === 'metrics') this.engine.consumeMetrics(batch.bytes);
    this.metrics.sent(batch.items);
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const wasRunning = this.state === 'running';
      this.state = 'stopping';
      if (wasRunning) await this.shared.release();
      this.state = 'stopped';
    })();
    return this.stopping;
  }
}
