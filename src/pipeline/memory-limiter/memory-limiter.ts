import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { Logger } from 'pino';
import type { Timer } from '../../component/clock.js';
import type { Processor } from '../../component/component.js';
import type { Consumer, OtlpBatch, Signal } from '../../component/consumer.js';
import { RefusedError } from '../../component/errors.js';
import type { CreateSettings } from '../../component/factory.js';
import type { ProcessorMetrics } from '../../telemetry/self-metrics.js';
import type { MemoryLimiterConfig } from './config.js';

/** Where the limiter reads memory use; injectable so tests can drive it. */
export type MemoryProbe = () => number;

const MiB = 1024 * 1024;

/**
 * Refuses data (429 / RESOURCE_EXHAUSTED with a retry hint) while the process's resident memory is
 * above the soft limit, so the sidecar answers overload with backpressure instead of growing until
 * the container is killed. Resident memory (RSS) is what the OOM killer sees, and it counts the
 * request buffers that live outside the JS heap. Memory is read every `check_interval` and,
 * because bursts arrive between checks, also when a batch arrives after a refusal.
 */
export class MemoryLimiter implements Processor {
  private readonly hardLimit: number;
  private readonly softLimit: number;
  private refusing = false;
  private timer: Timer | undefined;
  private readonly metrics: ProcessorMetrics;
  private readonly logger: Logger;

  constructor(
    private readonly settings: CreateSettings,
    config: MemoryLimiterConfig,
    signal: Signal,
    private readonly next: Consumer,
    private readonly probe: MemoryProbe = () => process.memoryUsage.rss(),
    totalMemory: number = availableMemory(),
  ) {
    this.metrics = settings.metrics.processor(settings.id, signal);
    this.logger = settings.logger;
    if (config.limit_mib > 0) {
      this.hardLimit = config.limit_mib * MiB;
      const spike =
        config.spike_limit_mib > 0 ? config.spike_limit_mib * MiB : this.hardLimit * 0.2;
      this.softLimit = this.hardLimit - spike;
    } else {
      this.hardLimit = (totalMemory * config.limit_percentage) / 100;
      this.softLimit = this.hardLimit - (totalMemory * config.spike_limit_percentage) / 100;
    }
    this.checkInterval = config.check_interval;
  }

  private readonly checkInterval: number;

  async start(): Promise<void> {
    this.logger.info(
      {
        hard_limit_mib: Math.round(this.hardLimit / MiB),
        soft_limit_mib: Math.round(this.softLimit / MiB),
      },
      'memory limiter active',
    );
    this.timer = this.settings.clock.setInterval(() => this.check(), this.checkInterval).unref();
  }

  async shutdown(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Reads memory and switches refusing on or off, logging only the transitions. */
  check(): void {
    const used = this.probe();
    const refuse = used > this.softLimit;
    if (refuse !== this.refusing) {
      this.refusing = refuse;
      const fields = {
        used_mib: Math.round(used / MiB),
        soft_limit_mib: Math.round(this.softLimit / MiB),
      };
      if (refuse)
        this.logger.warn(
          fields,
          'memory usage is above the soft limit: refusing data until it falls',
        );
      else this.logger.info(fields, 'memory usage is back below the soft limit: accepting data');
    }
  }

  consume(batch: OtlpBatch): Promise<void> {
    this.metrics.incoming(batch.items);
    if (this.refusing) this.check();
    if (this.refusing) {
      this.metrics.refused(batch.items);
      return Promise.reject(
        new RefusedError(
          `memory usage is above the soft limit of ${Math.round(this.softLimit / MiB)} MiB; retry later`,
          Math.max(1000, this.checkInterval),
        ),
      );
    }
    return this.next.consume(batch).then(() => this.metrics.outgoing(batch.items));
  }
}

/** The cgroup memory limit when running in a container, else the machine's memory. */
function availableMemory(): number {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = readFileSync(file, 'utf8').trim();
      const n = Number(text);
      if (text !== 'max' && Number.isFinite(n) && n > 0 && n < totalmem()) return n;
    } catch {
      // not in a cgroup with a limit
    }
  }
  return totalmem();
}
