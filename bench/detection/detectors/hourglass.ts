import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_HOST, type Host, type Processor } from '../../../src/component/component.js';
import type { OtlpBatch } from '../../../src/component/consumer.js';
import type { AnomalyProcessor } from '../../../src/detectors/anomaly/anomaly-processor.js';
import type { IncidentListener } from '../../../src/detectors/anomaly/incidents/engine.js';
import { anomalyProcessorSchema } from '../../../src/detectors/anomaly/config.js';
import { anomalyProcessorFactory } from '../../../src/detectors/anomaly/factory.js';
import { shadowEngine } from '../../../src/detectors/anomaly/replay/replay.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { FakeClock } from '../../../test/helpers/fake-clock.js';
import { readSeverities } from '../otlp/verdicts.js';
import type { SimSpan } from '../sim/traffic.js';
import type { BenchDetector } from './detector.js';

const host: Host = NO_HOST;

/**
 * hourglass as users run it: the `anomaly` processor built by its factory with its default
 * settings (but `storage`, and a 5-minute flush to keep the benchmark fast), on a real SQLite file
 * in a temporary directory and a fake clock that the stream moves forward (flushes, the nightly
 * recalculation and the daily window roll fire on simulated time). Each request is consumed as the
 * receiver would hand it on; the verdicts are read from the `anomaly.*` attributes of what the
 * processor forwards.
 */
export class Hourglass implements BenchDetector {
  readonly name = 'hourglass';
  readonly description = 'the anomaly processor (factory defaults), real SQLite, fake clock';
  private readonly dir = mkdtempSync(join(tmpdir(), 'hourglass-detection-'));
  private readonly clock: FakeClock;
  private readonly processor: Processor;
  private forwarded: OtlpBatch | undefined;

  private constructor(start: number, settings: Record<string, unknown>) {
    this.clock = new FakeClock(start);
    const config = anomalyProcessorSchema.parse({
      storage: join(this.dir, 'hourglass.db'),
      flush_interval: '5m',
      ...settings,
    });
    const next = {
      consume: (batch: OtlpBatch) => {
        this.forwarded = batch;
        return Promise.resolve();
      },
    };
    this.processor = anomalyProcessorFactory().create(
      {
        id: 'anomaly',
        logger: silentLogger(),
        clock: this.clock,
        metrics: new SelfMetrics({ processMetrics: false }),
      },
      config,
      'traces',
      next,
    );
  }

  static async start(startMs: number, settings: Record<string, unknown> = {}): Promise<Hourglass> {
    const h = new Hourglass(startMs, settings);
    await h.processor.start(host);
    return h;
  }

  async score(spans: readonly SimSpan[], bytes: Uint8Array, sentAt: number): Promise<Uint8Array> {
    const out = new Uint8Array(spans.length);
    if (sentAt > this.clock.now()) this.clock.set(sentAt);
    // Background jobs (recalculation, window roll) finish before more traffic, as they would
    // between two requests of a real stream at this volume.
    await (this.processor as AnomalyProcessor).detector.idle();
    this.forwarded = undefined;
    await this.processor.consume({ signal: 'traces', bytes, items: spans.length });
    const forwarded = this.forwarded as OtlpBatch | undefined;
    if (!forwarded || forwarded.bytes === bytes || spans.length === 0) return out;
    let first = spans[0]!.spanId;
    for (const s of spans) if (s.spanId < first) first = s.spanId;
    const position = new Int32Array(spans.length).fill(-1);
    spans.forEach((s, i) => (position[s.spanId - first] = i));
    readSeverities(forwarded.bytes, (spanId, severity) => {
      const i = position[spanId - first];
      if (i !== undefined && i >= 0) out[i] = severity;
    });
    return out;
  }

  /** Hears the incidents it opens (score/incidents.ts); `now` is the simulated time. */
  onIncident(listener: IncidentListener): void {
    (this.processor as AnomalyProcessor).detector.incidents?.subscribe(listener);
  }

  /**
   * One more incident engine with other `incidents` settings, fed the very spans the processor's
   * engine is fed, at the same times (what is tagged does not depend on the incidents): settings
   * compared in one run, as `bench:scoring:ab` compares builds.
   */
  shadowIncidents(settings: Record<string, unknown>, listener: IncidentListener): void {
    const primary = (this.processor as AnomalyProcessor).detector.incidents;
    if (!primary) throw new Error('incidents are off: nothing to compare with');
    shadowEngine(primary, settings, listener);
  }

  now(): number {
    return this.clock.now();
  }

  async close(): Promise<void> {
    await this.processor.shutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
