import type { Exporter } from '../../component/component.js';
import type { OtlpBatch, Signal } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import { notRunning } from '../helper/not-running.js';
import { protoToJson } from '../../otlp/json-encode.js';
import type { ExporterMetrics } from '../../telemetry/self-metrics.js';
import type { FileWriter } from './file-writer.js';

/**
 * Writes each batch as one OTLP/JSON line (an export request, as the Collector's file exporter
 * writes it). One instance per signal; instances of one exporter id share the `FileWriter`.
 */
export class FileExporter implements Exporter {
  private readonly metrics: ExporterMetrics;
  private state: 'created' | 'running' | 'stopped' = 'created';
  private shutdownPromise: Promise<void> | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly writer: FileWriter,
    signal: Signal,
  ) {
    this.metrics = settings.metrics.exporter(settings.id, signal);
  }

  async start(): Promise<void> {
    try {
      await this.writer.acquire();
    } catch (err) {
      throw new Error(`exporters.${this.settings.id}: ${(err as Error).message}`, { cause: err });
    }
    this.state = 'running';
  }

  async consume(batch: OtlpBatch): Promise<void> {
    if (this.state !== 'running') {
      throw notRunning(this.settings.id, this.state);
    }
    const line = Buffer.from(`${JSON.stringify(protoToJson(batch.signal, batch.bytes))}\n`);
    await this.writer.append(line, batch.items, this.metrics);
  }

  /** Resolves once the writes started so far (by the flush timer, say) are done. */
  idle(): Promise<void> {
    return this.writer.idle();
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      if (this.state !== 'running') return;
      this.state = 'stopped';
      await this.writer.release();
    })();
    return this.shutdownPromise;
  }
}
