import { once as onceEvent } from 'node:events';
import type { Writable } from 'node:stream';
import type { Exporter } from '../../component/component.js';
import type { OtlpBatch, Signal } from '../../component/consumer.js';
import { errorMessage } from '../../component/errors.js';
import type { CreateSettings } from '../../component/factory.js';
import { notRunning } from '../helper/not-running.js';
import type { ExporterMetrics } from '../../telemetry/self-metrics.js';
import type { DebugExporterConfig } from './config.js';
import { formatBatch } from './format.js';
import { Sampler } from './sampler.js';

/**
 * Prints what it receives to stdout (logs go to stderr), as the Collector's debug exporter does,
 * with anomalous spans flagged. Output is sampled per second; when stdout is slow, `consume()`
 * waits for it rather than buffering without bound.
 */
export class DebugExporter implements Exporter {
  private readonly sampler: Sampler;
  private readonly metrics: ExporterMetrics;
  private readonly color: boolean;
  private broken = false;
  private state: 'created' | 'running' | 'stopped' = 'created';

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: DebugExporterConfig,
    signal: Signal,
    private readonly out: Writable,
  ) {
    this.sampler = new Sampler(settings.clock, config.sampling_initial, config.sampling_thereafter);
    this.metrics = settings.metrics.exporter(settings.id, signal);
    this.color = (out as Partial<NodeJS.WriteStream>).isTTY === true;
  }

  start(): Promise<void> {
    this.out.on('error', this.onError);
    this.state = 'running';
    return Promise.resolve();
  }

  async consume(batch: OtlpBatch): Promise<void> {
    if (this.state !== 'running') {
      throw notRunning(this.settings.id, this.state);
    }
    this.metrics.sent(batch.items);
    if (this.broken || !this.sampler.sample()) return;
    const header = `${new Date(this.settings.clock.now()).toISOString()} ${this.settings.id} ${batch.signal}:`;
    const text = formatBatch(batch, this.config.verbosity, header, this.color);
    // Backpressure: wait for a slow stdout (an error ends the wait too: events.once rejects).
    if (!this.out.write(text)) await onceEvent(this.out, 'drain').catch(() => undefined);
  }

  shutdown(): Promise<void> {
    this.state = 'stopped';
    this.out.off('error', this.onError);
    return Promise.resolve();
  }

  private readonly onError = (err: Error): void => {
    if (this.broken) return;
    this.broken = true;
    this.settings.logger.error(
      { error: errorMessage(err) },
      'cannot write to stdout any more; the debug exporter stops printing',
    );
  };
}
