import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import type { Clock, Timer } from '../../src/component/clock.js';
import { NO_HOST, type Exporter, type Host } from '../../src/component/component.js';
import type { Signal } from '../../src/component/consumer.js';
import type { CreateSettings, ExporterFactory } from '../../src/component/factory.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OtlpSink } from '../helpers/otlp-sink.js';

/** Retry settings that make waits exact: 1s, 2s, 4s, ... up to 10s, for at most a minute. */
export const TEST_RETRY = {
  initial_interval: '1s',
  randomization_factor: 0,
  multiplier: 2,
  max_interval: '10s',
  max_elapsed_time: '1m',
};

export const HOST: Host = NO_HOST;

export interface Made {
  readonly exporter: Exporter;
  readonly h: Harness;
  readonly clock: ObservedClock;
}

/**
 * Per test: a fresh OTLP sink, and every exporter the test makes shut down afterwards (cleanup
 * registered before anything starts).
 */
export function useTestbed() {
  let sink: OtlpSink | undefined;
  const made: Exporter[] = [];
  beforeEach(async () => {
    sink = await OtlpSink.start();
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((e) => e.shutdown()));
    await sink?.close();
  });
  return {
    get sink(): OtlpSink {
      return sink!;
    },
    /** Builds an exporter from raw config (validated by the factory's schema); not started. */
    create<C>(
      factory: ExporterFactory<C>,
      id: string,
      raw: Record<string, unknown>,
      signal: Signal = 'traces',
      clock: ObservedClock = new ObservedClock(),
    ): Made {
      const h = harness(id, clock);
      const exporter = factory.create(h.settings, factory.configSchema.parse(raw), signal);
      made.push(exporter);
      return { exporter, h, clock };
    },
  };
}

/** A log line as pino wrote it. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger that keeps its lines in memory, so tests can check what was said (and how often). */
export function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  );
  return { logger, lines };
}

export const WARN = 40;
export const ERROR = 50;
export const INFO = 30;

export interface Harness {
  readonly settings: CreateSettings;
  readonly lines: LogLine[];
  readonly metrics: SelfMetrics;
  /** The value of a counter or gauge for this exporter (0 when never set). */
  metric(name: string, extraLabels?: Record<string, string>): Promise<number>;
  /** Log lines whose message contains `text`. */
  logged(text: string): LogLine[];
}

export function harness(id: string, clock: Clock = new ObservedClock()): Harness {
  const { logger, lines } = memoryLogger();
  const metrics = new SelfMetrics({ processMetrics: false });
  return {
    settings: { id, logger, clock, metrics },
    lines,
    metrics,
    async metric(name, extraLabels = {}) {
      const m = metrics.registry.getSingleMetric(name);
      if (!m) return 0;
      const { values } = await m.get();
      const wanted = { exporter: id, ...extraLabels };
      const v = values.find((x) =>
        Object.entries(wanted).every(
          ([k, val]) => (x.labels as Record<string, unknown>)[k] === val,
        ),
      );
      return v?.value ?? 0;
    },
    logged: (text) => lines.filter((l) => l.msg.includes(text)),
  };
}

/**
 * A fake clock that also tells when timers are set and for how long, so a test can await the
 * exporter's backoff wait and check its length before moving time.
 */
export class ObservedClock extends FakeClock {
  /** The delay of every timeout set, in order. */
  readonly delays: number[] = [];
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];

  override setTimeout(fn: () => void, ms: number): Timer {
    const timer = super.setTimeout(fn, ms);
    this.delays.push(ms);
    for (const w of [...this.waiters]) {
      if (this.delays.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    return timer;
  }

  /** Resolves once `n` timeouts have been set in all. */
  timeoutsSet(n: number): Promise<void> {
    if (this.delays.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

/** Lets pending promise callbacks and I/O callbacks run (not a sleep: no time passes). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Returns a maker of temporary directories, each removed after the test that made it. */
export function useTempDirs(prefix = 'hourglass-'): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
