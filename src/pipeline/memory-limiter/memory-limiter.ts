import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/** Runs a full garbage collection, so that memory read next is live data, not garbage. */
export type Collector = () => void;

const MiB = 1024 * 1024;

/**
 * Refuses data (429 / RESOURCE_EXHAUSTED with a retry hint) while the memory the process holds is
 * above the soft limit, so the sidecar answers overload with backpressure instead of growing until
 * the container is killed. What is measured is live memory: the JavaScript heap in use plus the
 * buffers outside it (`heapUsed + external`), which is where queued and batched data lives; the
 * Collector measures its Go heap the same way. Resident memory is not used: the allocator keeps
 * freed pages for reuse, so it can stay high after a burst has drained, and refusing on it would
 * refuse long after the pressure is gone. Memory is read every `check_interval` and, because
 * bursts arrive between checks, also when a batch arrives after a refusal.
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
    private readonly probe: MemoryProbe = liveMemory,
    totalMemory: number = availableMemory(),
    private readonly collect: Collector = forceGc,
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

  private lastGc = -Infinity;

  /**
   * Reads memory and switches refusing on or off, logging only the transitions. Above the soft
   * limit it first collects garbage (at most once per check_interval), as the Collector does:
   * buffers already dropped count as memory until a collection, and refusing because of them would
   * refuse for no reason.
   */
  check(): void {
    let used = this.probe();
    const now = this.settings.clock.now();
    if (used > this.softLimit && now - this.lastGc >= this.checkInterval) {
      this.lastGc = now;
      this.collect();
      used = this.probe();
    }
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

  /** Batches go on unchanged: whatever comes next may read their layout. */
  readsSpanLayout(): boolean {
    return this.next.readsSpanLayout?.() === true;
  }

  refusal(): RefusedError | undefined {
    if (this.refusing) this.check();
    if (!this.refusing) return undefined;
    // Jittered, so that the clients refused together do not all come back together.
    const wait = Math.max(1000, this.checkInterval) * (1 + Math.random());
    return new RefusedError(
      `memory usage is above the soft limit of ${Math.round(this.softLimit / MiB)} MiB; retry later`,
      wait,
    );
  }

  consume(batch: OtlpBatch): Promise<void> {
    this.metrics.incoming(batch.items);
    const refused = this.refusal();
    if (refused) {
      this.metrics.refused(batch.items);
      return Promise.reject(refused);
    }
    return this.next.consume(batch).then(() => this.metrics.outgoing(batch.items));
  }
}

let gc: (() => void) | undefined;

/** A full garbage collection, without starting node with --expose-gc. */
export function forceGc(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** Bytes held by the JavaScript heap and by buffers outside it. */
export function liveMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
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
