import { provide, type Provided } from '../../component/capability.js';
import type { Host, Processor } from '../../component/component.js';
import type { Consumer, OtlpBatch } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import type { ProcessorMetrics } from '../../telemetry/self-metrics.js';
import { ANOMALY_HISTORY, ANOMALY_INCIDENTS, SUMMARY_SINK } from './contract.js';
import type { AnomalyDetector } from './detector.js';
import type { ScoredBatch } from './internal/score-batch.js';
import type { SharedDetector } from './internal/shared-detector.js';

/**
 * The `anomaly` processor in one traces pipeline: scores each batch against the baselines, tags
 * the anomalous spans, forwards the batch (the very same object when nothing was tagged) and,
 * once it is accepted downstream, learns from it. A batch refused downstream is not learned: the
 * client sends it again. Scoring never costs a span: if it fails, the batch goes on untagged and
 * the failure is counted.
 */
export class AnomalyProcessor implements Processor {
  private started = false;
  private stopping: Promise<void> | undefined;
  private loggedFailure = false;

  constructor(
    private readonly settings: CreateSettings,
    private readonly shared: SharedDetector,
    private readonly next: Consumer,
    private readonly metrics: ProcessorMetrics,
  ) {}

  get detector(): AnomalyDetector {
    return this.shared.detector;
  }

  /** The history (admin API), where summaries go (llm_summary), the incidents: one per id. */
  capabilities(): readonly Provided[] {
    const incidents = this.detector.incidentSource;
    return [
      provide(ANOMALY_HISTORY, this.detector),
      provide(SUMMARY_SINK, this.detector),
      ...(incidents ? [provide(ANOMALY_INCIDENTS, incidents)] : []),
    ];
  }

  async start(_host: Host): Promise<void> {
    this.started = true;
    await this.shared.acquire();
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.started ? this.shared.release() : Promise.resolve();
    return this.stopping;
  }

  /** Scoring reads the receiver's record of where the spans' fields are, instead of a second scan. */
  readsSpanLayout(): boolean {
    return true;
  }

  async consume(batch: OtlpBatch): Promise<void> {
    this.metrics.incoming(batch.items);
    let scored: ScoredBatch | undefined;
    if (batch.signal === 'traces') {
      try {
        scored = this.detector.score(batch.bytes, batch.layout);
      } catch (err) {
        this.failed(err, 'scoring');
      }
    }
    const out =
      scored === undefined || scored.bytes === batch.bytes
        ? batch
        : { signal: batch.signal, bytes: scored.bytes, items: batch.items };
    await this.next.consume(out);
    this.metrics.outgoing(batch.items);
    if (scored === undefined) return;
    try {
      this.detector.accept(scored);
    } catch (err) {
      this.failed(err, 'learning');
    }
  }

  private failed(err: unknown, stage: string): void {
    this.detector.scoringFailed();
    if (this.loggedFailure) return;
    this.loggedFailure = true;
    this.settings.logger.error(
      { err, stage },
      'anomaly detection failed on a batch; it was forwarded untagged (counted in hourglass_anomaly_scoring_failures_total; logged once)',
    );
  }
}
