import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ITEM_NAME, SIGNALS, type Signal } from '../otlp/signal.js';

/**
 * The sidecar's own metrics, named as the OpenTelemetry Collector names them
 * (`otelcol_receiver_accepted_spans_total{receiver,transport}` and so on) so that dashboards and
 * alerts written for the Collector work unchanged. hourglass's own additions use `hourglass_`.
 * One instance per process, made in main and passed to every factory.
 */
export class SelfMetrics {
  readonly registry: Registry;
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly receiverSignals = new Map<string, readonly Signal[]>();
  /** What `flushedCounter`'s callers add before a read, by counter name. */
  private readonly flushes = new Map<string, ((counter: Counter) => void)[]>();

  constructor(options: { processMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (options.processMetrics !== false) {
      this.processMetrics();
      // Node's own runtime metrics (event loop lag, GC, heap spaces), under our prefix.
      collectDefaultMetrics({ register: this.registry, prefix: 'hourglass_' });
    }
  }

  /** The Collector's process metrics, read at each scrape. */
  private processMetrics(): void {
    const started = Date.now();
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    // Monotonic sums in the Collector (process_uptime, process_cpu_seconds): counters here.
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counter(
      'otelcol_process_uptime_seconds_total',
      'Uptime of the process.',
      () => (Date.now() - started) / 1000,
    );
    counter(
      'otelcol_process_cpu_seconds_total',
      'Total CPU user and system time in seconds.',
      () => {
        const c = process.cpuUsage();
        return (c.user + c.system) / 1e6;
      },
    );
    gauge('otelcol_process_memory_rss_bytes', 'Total physical memory (resident set size).', () =>
      process.memoryUsage.rss(),
    );
    gauge(
      'otelcol_process_runtime_heap_alloc_bytes',
      'Bytes of live data: the JavaScript heap in use plus buffers outside it (what memory_limiter measures).',
      () => {
        const m = process.memoryUsage();
        return m.heapUsed + m.external;
      },
    );
    gauge(
      'otelcol_process_runtime_total_sys_memory_bytes',
      'Memory reserved by the runtime: the JavaScript heap and buffers outside it.',
      () => {
        const m = process.memoryUsage();
        return m.heapTotal + m.external;
      },
    );
  }

  /** A counter, created on first use; the same name always returns the same counter. */
  counter(name: string, help: string, labelNames: readonly string[]): Counter {
    let c = this.counters.get(name);
    if (!c) {
      const flushes = this.flushes;
      c = new Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          for (const flush of flushes.get(name) ?? []) flush(this);
        },
      });
      this.counters.set(name, c);
    }
    return c;
  }

  /**
   * The counter `name` (as `counter` makes it), with `flush` called before each read of it (a
   * scrape) to add what its caller counted since: for counts on a hot path, where prom-client's
   * label hashing for each increment would cost more than the count. A read sees every count made
   * before it, as with increments made at once.
   */
  flushedCounter(
    name: string,
    help: string,
    labelNames: readonly string[],
    flush: (counter: Counter) => void,
  ): Counter {
    const c = this.counter(name, help, labelNames);
    this.flushes.set(name, [...(this.flushes.get(name) ?? []), flush]);
    return c;
  }

  gauge(name: string, help: string, labelNames: readonly string[]): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help, labelNames, registers: [this.registry] });
      this.gauges.set(name, g);
    }
    return g;
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: number[],
  ): Histogram {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
      this.histograms.set(name, h);
    }
    return h;
  }

  /**
   * The signals a receiver serves (the service declares them before building it), so that its
   * accepted and refused series exist from the start, at 0, for exactly those signals.
   */
  declareReceiver(id: string, signals: readonly Signal[]): void {
    this.receiverSignals.set(id, signals);
  }

  /**
   * Counters of one receiver and transport: accepted (pipeline took it), refused (it did not).
   * Both start at 0 for each signal it serves, so that dashboard ratios show numbers at once.
   */
  receiver(id: string, transport: string): ReceiverMetrics {
    const labels = { receiver: id, transport };
    const accepted = (signal: Signal) =>
      this.counter(
        `otelcol_receiver_accepted_${ITEM_NAME[signal]}_total`,
        `Number of ${ITEM_NAME[signal]} successfully pushed into the pipeline.`,
        ['receiver', 'transport'],
      );
    const refused = (signal: Signal) =>
      this.counter(
        `otelcol_receiver_refused_${ITEM_NAME[signal]}_total`,
        `Number of ${ITEM_NAME[signal]} that could not be pushed into the pipeline.`,
        ['receiver', 'transport'],
      );
    for (const signal of this.receiverSignals.get(id) ?? SIGNALS) {
      accepted(signal).inc(labels, 0);
      refused(signal).inc(labels, 0);
    }
    return {
      accepted: (signal, n) => accepted(signal).inc(labels, n),
      refused: (signal, n) => refused(signal).inc(labels, n),
      duration: (signal, seconds) => {
        this.histogram(
          'hourglass_receiver_request_duration_seconds',
          'Time from the arrival of an export request to its answer (body read, decoded, accepted by the pipeline).',
          ['receiver', 'transport', 'otel_signal'],
          [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        ).observe({ receiver: id, transport, otel_signal: signal }, seconds);
      },
      refusedUndecoded: (signal) => {
        this.counter(
          'hourglass_receiver_refused_requests_total',
          'Requests refused before decoding because the pipeline was refusing data (memory above the limit); their items are not in otelcol_receiver_refused_*.',
          ['receiver', 'transport', 'otel_signal'],
        ).inc({ receiver: id, transport, otel_signal: signal });
      },
    };
  }

  /**
   * Counters and gauges of one exporter instance (one per signal). The sent, send-failed and
   * enqueue-failed series start at 0.
   */
  exporter(id: string, signal: Signal): ExporterMetrics {
    const item = ITEM_NAME[signal];
    const labels = { exporter: id };
    const queueLabels = { exporter: id, data_type: signal };
    const sent = this.counter(
      `otelcol_exporter_sent_${item}_total`,
      `Number of ${item} successfully sent to destination.`,
      ['exporter'],
    );
    const sendFailed = this.counter(
      `otelcol_exporter_send_failed_${item}_total`,
      `Number of ${item} in failed attempts to send to destination (dropped).`,
      ['exporter'],
    );
    const enqueueFailed = this.counter(
      `otelcol_exporter_enqueue_failed_${item}_total`,
      `Number of ${item} failed to be added to the sending queue.`,
      ['exporter'],
    );
    for (const c of [sent, sendFailed, enqueueFailed]) c.inc(labels, 0);
    return {
      sent: (n) => sent.inc(labels, n),
      sendFailed: (n) => sendFailed.inc(labels, n),
      enqueueFailed: (n) => enqueueFailed.inc(labels, n),
      queueSize: (n) => {
        this.gauge('otelcol_exporter_queue_size', 'Current size of the retry queue (in batches).', [
          'exporter',
          'data_type',
        ]).set(queueLabels, n);
      },
      queueCapacity: (n) => {
        this.gauge(
          'otelcol_exporter_queue_capacity',
          'Fixed capacity of the retry queue (in batches).',
          ['exporter', 'data_type'],
        ).set(queueLabels, n);
      },
    };
  }

  /** Items in and out of one processor instance, and those it refused or dropped. */
  processor(id: string, signal: Signal): ProcessorMetrics {
    const labels = { processor: id, otel_signal: signal };
    return {
      incoming: (n) => {
        this.counter(
          'otelcol_processor_incoming_items_total',
          'Number of items passed to the processor.',
          ['processor', 'otel_signal'],
        ).inc(labels, n);
      },
      outgoing: (n) => {
        this.counter(
          'otelcol_processor_outgoing_items_total',
          'Number of items emitted from the processor.',
          ['processor', 'otel_signal'],
        ).inc(labels, n);
      },
      refused: (n) => {
        this.counter(
          `otelcol_processor_refused_${ITEM_NAME[signal]}_total`,
          `Number of ${ITEM_NAME[signal]} refused by the processor (the client is asked to retry).`,
          ['processor'],
        ).inc({ processor: id }, n);
      },
      dropped: (n) => {
        this.counter(
          `otelcol_processor_dropped_${ITEM_NAME[signal]}_total`,
          `Number of ${ITEM_NAME[signal]} dropped by the processor.`,
          ['processor'],
        ).inc({ processor: id }, n);
      },
    };
  }
}

export interface ReceiverMetrics {
  accepted(signal: Signal, n: number): void;
  refused(signal: Signal, n: number): void;
  /** A request refused before it was decoded (its items were not counted). */
  refusedUndecoded(signal: Signal): void;
  /** Time from a request's arrival to its answer, in seconds (what the sidecar adds). */
  duration(signal: Signal, seconds: number): void;
}

export interface ExporterMetrics {
  sent(n: number): void;
  sendFailed(n: number): void;
  enqueueFailed(n: number): void;
  queueSize(n: number): void;
  queueCapacity(n: number): void;
}

export interface ProcessorMetrics {
  incoming(n: number): void;
  outgoing(n: number): void;
  refused(n: number): void;
  dropped(n: number): void;
}
