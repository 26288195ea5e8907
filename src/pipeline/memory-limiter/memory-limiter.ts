import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';
import type { Timer } from '../../component/clock.js';
import type { Processor } from '../../component/component.js';
import type { Consumer, OtlpBatch, Signal } from '../../component/consumer.js';
import { RefusedError } from '../../component/errors.js';
import type { CreateSettings } from '../../component/factory.js';
import type { ProcessorMetrics } from '../../telemetry/self-metrics.js';
import type { MemoryLimiterConfig } from './config.js';
import { processMemoryLimit, type ProcessMemoryLimit } from './process-limit.js';

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
 *
 * Request bodies still being read count too (`holdBody`): receivers report the bytes they hold
 * before a request reaches `consume`, and one that would take memory over the soft limit is
 * refused while it is still arriving, not once it has been read whole.
 */
export class MemoryLimiter implements Processor {
  private readonly hardLimit: number;
  private readonly softLimit: number;
  private refusing = false;
  private timer: Timer | undefined;
  private readonly metrics: ProcessorMetrics;
  private readonly logger: Logger;
  private readonly checkInterval: number;
  /** Live memory at the last check, and the body bytes held by receivers then and now. */
  private lastUsed = 0;
  private heldAtCheck = 0;
  private held = 0;
  private probeFailed = false;

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: MemoryLimiterConfig,
    signal: Signal,
    private readonly next: Consumer,
    private readonly probe: MemoryProbe = liveMemory,
    private readonly processLimit: ProcessMemoryLimit = processMemoryLimit(),
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
      const total = processLimit.bytes;
      this.hardLimit = (total * config.limit_percentage) / 100;
      this.softLimit = this.hardLimit - (total * config.spike_limit_percentage) / 100;
    }
    this.checkInterval = config.check_interval;
  }

  async start(): Promise<void> {
    const limit = this.processLimit;
    this.logger.info(
      {
        hard_limit_mib: Math.round(this.hardLimit / MiB),
        soft_limit_mib: Math.round(this.softLimit / MiB),
        process_limit_mib: Math.round(limit.bytes / MiB),
        process_limit_source: limit.source,
      },
      'memory limiter active',
    );
    if (this.hardLimit > limit.bytes) {
      this.logger.warn(
        { limit_mib: this.config.limit_mib, process_limit_mib: Math.round(limit.bytes / MiB) },
        `limit_mib ${this.config.limit_mib} is above what this process can use (${limit.source}: ${Math.round(limit.bytes / MiB)} MiB): it would run out of memory before refusing anything; lower limit_mib, or use limit_percentage`,
      );
    }
    this.check();
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
    let used: number;
    try {
      used = this.probe();
      const now = this.settings.clock.now();
      if (used > this.softLimit && now - this.lastGc >= this.checkInterval) {
        this.lastGc = now;
        this.collect();
        used = this.probe();
      }
    } catch (err) {
      // Runs on a timer: nothing may escape it. The last reading stands until one succeeds.
      if (!this.probeFailed) {
        this.probeFailed = true;
        this.logger.warn({ err }, 'cannot read memory usage; keeping the last reading');
      }
      return;
    }
    this.probeFailed = false;
    this.lastUsed = used;
    this.heldAtCheck = this.held;
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

  /**
   * A receiver holds `delta` more bytes of request bodies (negative: it let go of them). Memory
   * is estimated as the last reading plus the body bytes that arrived since; above the soft limit
   * the request that is growing is refused at once (the receiver stops reading it), so that
   * bodies trickling in on many connections cannot take memory past the limit between checks.
   */
  holdBody(delta: number): RefusedError | undefined {
    this.held += delta;
    if (delta <= 0) return undefined;
    if (
      this.refusing ||
      this.lastUsed + Math.max(0, this.held - this.heldAtCheck) > this.softLimit
    ) {
      return this.refusedError();
    }
    return undefined;
  }

  /** Batches go on unchanged: whatever comes next may read their layout. */
  readsSpanLayout(): boolean {
    return this.next.readsSpanLayout?.() === true;
  }

  refusal(): RefusedError | undefined {
    if (this.refusing) this.check();
    return this.refusing ? this.refusedError() : undefined;
  }

  private refusedError(): RefusedError {
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

/**
 * Bytes held by the JavaScript heap and by buffers outside it. Read from V8 (not
 * `process.memoryUsage()`, which also reads the resident set size from /proc and so needs a file
 * descriptor: with descriptors exhausted it throws EMFILE).
 */
export function liveMemory(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}
