import { readFileSync } from 'node:fs';
import type { Timer } from '../../component/clock.js';
import type { Host } from '../../component/component.js';
import type { Consumer } from '../../component/consumer.js';
import { errorMessage } from '../../component/errors.js';
import type { CreateSettings } from '../../component/factory.js';
import type { LlmSummaryExporterConfig } from './config.js';
import {
  BatchQueue,
  RecentAnomalies,
  TraceHolder,
  type HeldTrace,
} from './internal/holding/index.js';
import { CircuitBreaker } from './internal/providers/index.js';
import { Incidents } from './internal/incidents.js';
import { MetricsWindow } from './internal/metrics/index.js';
import { openOutside, type Outside } from './internal/outside.js';
import {
  publish,
  type PublishTargets,
  summaryLinks,
  type SummaryLinks,
} from './internal/publishing/index.js';
import { Redactor } from './internal/redaction/redact.js';
import { Summarizer, type SummaryResult } from './internal/writing/index.js';
import type { SummaryStore } from './internal/store/summary-store.js';
import { SummaryMetrics } from './internal/summary-metrics.js';

/**
 * The engine of one `llm_summary` connector. The
 * consume side never waits: trace requests are scanned for anomalies and the spans of anomalous
 * traces copied into a bounded holder; metrics requests feed the window. A tick hands traces whose
 * window has passed to a bounded queue (most severe kept when full); every `batch.timeout`, or as
 * soon as `batch.max_anomalies` are queued, one batch is summarized (`max_concurrency` model
 * requests at a time) and published together. One batch runs at a time: a slow model makes the
 * queue fill and drop (counted), never the pipeline wait.
 */
export class SummaryEngine {
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private readonly metrics: SummaryMetrics;
  private readonly incidents: Incidents;
  private readonly holder: TraceHolder;
  private readonly window: MetricsWindow;
  private readonly recent = new RecentAnomalies(2000);
  private readonly redactor: Redactor;
  private readonly breaker: CircuitBreaker;
  private readonly timers: Timer[] = [];
  /** Cancels model requests at shutdown (their anomalies get the built-in summary). */
  private readonly models = new AbortController();
  /** Cancels webhook and Prometheus requests once shutdown has published what it could. */
  private readonly closing = new AbortController();
  private links: SummaryLinks = { spans: undefined, historySinks: [] };
  private outside: Outside | undefined;
  private summarizer: Summarizer | undefined;
  private readonly queue: BatchQueue;
  private reported = { traces_limit: 0, spans_limit: 0, bytes_limit: 0, late: 0 };
  private consumeFailures = 0;

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: LlmSummaryExporterConfig,
    /** Where summary spans go: the pipelines that receive from the connector. */
    private readonly spans?: Consumer,
  ) {
    this.metrics = new SummaryMetrics(settings.metrics, settings.id);
    this.incidents = new Incidents(settings.logger);
    const r = config.redaction;
    this.redactor = new Redactor({
      allow_attributes: r.allow_attributes,
      deny_attributes: [...r.deny_attributes, ...r.extra_deny_attributes],
      mask_values: r.mask_values,
    });
    this.holder = new TraceHolder(
      {
        windowMs: config.trace_window,
        minSeverity: config.min_severity,
        maxTraces: config.limits.max_traces,
        maxSpansPerTrace: config.limits.max_spans_per_trace,
        maxBytes: Math.floor(config.limits.max_bytes_mib * 1024 * 1024),
      },
      (a) => this.recent.add(a),
    );
    this.window = new MetricsWindow({
      windowMs: config.metrics.window,
      maxServices: config.metrics.max_services,
      maxSamples: 360,
    });
    this.queue = new BatchQueue({
      clock: settings.clock,
      size: config.queue_size,
      maxBatch: config.batch.max_anomalies,
      timeoutMs: config.batch.timeout,
      run: (batch) => this.runBatch(batch),
      dropped: () => this.metrics.dropped('queue_full', 1),
    });
    this.breaker = new CircuitBreaker(
      config.circuit_breaker.failure_threshold,
      config.circuit_breaker.open_duration,
      settings.clock,
      (state) => {
        this.metrics.circuit(state);
        if (state === 'open') {
          settings.logger.warn(
            { openFor: config.circuit_breaker.open_duration },
            `the model failed ${config.circuit_breaker.failure_threshold} times in a row: not calling it for a while${config.fallback === 'builtin' ? ' (built-in summaries meanwhile)' : ''}`,
          );
        }
      },
    );
  }

  get running(): boolean {
    return this.state === 'running';
  }

  async start(host: Host): Promise<void> {
    if (this.state !== 'created') return;
    const { config, settings } = this;
    const { clock, logger } = settings;
    this.links = summaryLinks(host, settings.id, this.spans);
    this.outside = openOutside(config, clock, logger, this.incidents);
    const { provider, prometheus } = this.outside;
    this.summarizer = new Summarizer({
      clock,
      redactor: this.redactor,
      window: this.window,
      prometheus,
      recent: this.recent,
      provider,
      breaker: this.breaker,
      metrics: this.metrics,
      incidents: this.incidents,
      fallback: config.fallback,
      metricsWindowMs: config.metrics.window,
      cost: {
        promptPer1k: config.cost.prompt_per_1k_tokens,
        completionPer1k: config.cost.completion_per_1k_tokens,
      },
      stopping: () => this.state !== 'running',
    });
    const tick = Math.max(100, Math.min(1000, Math.floor(config.trace_window / 10)));
    this.timers.push(clock.setInterval(() => this.tick(), tick).unref());
    this.metrics.circuit('closed');
    this.state = 'running';
    logger.info(
      {
        provider: config.provider,
        model: config.model,
        minSeverity: `SEV${config.min_severity}`,
        histories: this.links.historySinks.length,
      },
      'anomaly summaries started',
    );
  }

  /** Takes a trace request: returns at once, having copied what it keeps. */
  consumeTraces(bytes: Uint8Array): void {
    try {
      this.holder.add(bytes, this.settings.clock.now());
    } catch (err) {
      this.consumeFailed(err);
    }
  }

  /** Takes a metrics request into the window. */
  consumeMetrics(bytes: Uint8Array): void {
    try {
      this.window.ingest(bytes, this.settings.clock.now());
    } catch (err) {
      this.consumeFailed(err);
    }
  }

  /** The summary store (feedback and training data), when it could be opened. */
  get summaries(): SummaryStore | undefined {
    return this.outside?.store;
  }

  /** Resolves once nothing is queued, batched or being summarized (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async shutdown(): Promise<void> {
    if (this.state === 'created') {
      this.state = 'stopped';
      return;
    }
    if (this.state !== 'running') return;
    this.state = 'stopping';
    for (const t of this.timers) t.cancel();
    this.models.abort();
    for (const t of this.holder.drain()) this.queue.add(t);
    await this.queue.drain();
    this.report();
    this.closing.abort();
    await this.outside?.close();
    this.state = 'stopped';
  }

  private tick(): void {
    for (const t of this.holder.due(this.settings.clock.now())) this.queue.add(t);
    this.report();
  }

  /** Summarizes one batch (`max_concurrency` at a time) and publishes it. Never rejects. */
  private async runBatch(batch: readonly HeldTrace[]): Promise<void> {
    const summarizer = this.summarizer!;
    const results: SummaryResult[] = [];
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const trace = batch[next++]!;
        try {
          const r = await summarizer.summarize(trace, this.models.signal);
          if (r) results.push(r);
        } catch (err) {
          this.incidents.failed(
            'summarize',
            `summarizing a trace failed: ${errorMessage(err)}`,
            err,
          );
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.config.max_concurrency, batch.length) }, worker),
    );
    results.sort((a, b) => batch.indexOf(a.trace) - batch.indexOf(b.trace));
    try {
      await publish(results, this.targets(), this.closing.signal);
    } catch (err) {
      this.incidents.failed('publish', `publishing summaries failed: ${errorMessage(err)}`, err);
    }
  }

  private targets(): PublishTargets {
    return {
      links: this.links,
      store: this.outside?.store,
      webhook: this.outside?.webhook,
      jaegerUiUrl: this.config.jaeger_ui_url,
      resource: { 'service.name': 'hourglass', 'service.version': VERSION },
      version: VERSION,
      metrics: this.metrics,
      incidents: this.incidents,
      redactor: this.redactor,
    };
  }

  private consumeFailed(err: unknown): void {
    this.consumeFailures++;
    this.incidents.failed(
      'consume',
      `could not read a request for summaries (it was forwarded as usual): ${errorMessage(err)}`,
      err,
    );
  }

  /** Moves the holder's plain counters into the metrics. */
  private report(): void {
    const d = this.holder.dropped;
    for (const k of Object.keys(this.reported) as (keyof typeof this.reported)[]) {
      this.metrics.dropped(k, d[k] - this.reported[k]);
      this.reported[k] = d[k];
    }
    this.metrics.held(this.holder.size, this.holder.bytes, this.queue.length);
  }
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
