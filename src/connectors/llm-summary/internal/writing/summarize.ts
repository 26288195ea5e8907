import type { Clock } from '../../../../component/clock.js';
import { errorMessage } from '../../../../component/errors.js';
import { builtinSummary } from './builtin-summary.js';
import {
  type CircuitBreaker,
  ProviderError,
  type Prompt,
  type Provider,
} from '../providers/index.js';
import { involvedServices, type SummaryContext } from './context.js';
import type { Incidents } from '../incidents.js';
import type { MetricsWindow, ReadingSummary, PrometheusSource } from '../metrics/index.js';
import { analyseTrace, type TraceAnalysis } from '../../../../analysis/origin.js';
import { buildPrompt } from './prompt.js';
import type { RecentAnomalies, HeldTrace } from '../holding/index.js';
import type { Redactor } from '../redaction/redact.js';
import { decodeSpan, type SpanInfo } from '../../../../otlp/span-decode.js';
import type { SummaryMetrics } from '../summary-metrics.js';
import { tidyCompletion } from './tidy.js';

/** A summary written for one anomalous trace, with what it was written from. */
export interface SummaryResult {
  readonly trace: HeldTrace;
  readonly analysis: TraceAnalysis;
  readonly prompt: Prompt;
  /** Exactly what the model wrote (the built-in text when no model wrote it). */
  readonly completion: string;
  /** What is published. */
  readonly summary: string;
  /** Who wrote it: `builtin` also when it replaced a failing model. */
  readonly provider: string;
  readonly model: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Why the built-in summary replaced the model's, or null. */
  readonly fallbackReason: string | null;
}

export interface SummarizerParts {
  readonly clock: Clock;
  readonly redactor: Redactor;
  readonly window: MetricsWindow;
  readonly prometheus: PrometheusSource | undefined;
  readonly recent: RecentAnomalies;
  /** Undefined for the built-in provider. */
  readonly provider: Provider | undefined;
  readonly breaker: CircuitBreaker;
  readonly metrics: SummaryMetrics;
  readonly incidents: Incidents;
  readonly fallback: 'builtin' | 'none';
  readonly metricsWindowMs: number;
  readonly cost: { readonly promptPer1k: number; readonly completionPer1k: number };
  /** True once shutdown has begun: no model request is started, a cancelled one is no failure. */
  readonly stopping: () => boolean;
}

/** How far around an anomaly other traces' anomalies count as concurrent. */
const CONCURRENT_WINDOW_MS = 60_000;

/**
 * Writes the summary of one held trace: decodes its spans, finds the origin, gathers the metrics
 * of the services involved and the concurrent anomalies, builds the prompt, and asks the model
 * (through the circuit breaker) or writes the built-in summary. A failing model is counted and,
 * with `fallback: builtin`, replaced by the built-in summary. Never throws.
 */
export class Summarizer {
  constructor(private readonly p: SummarizerParts) {}

  async summarize(trace: HeldTrace, signal: AbortSignal): Promise<SummaryResult | undefined> {
    const { clock, redactor, provider } = this.p;
    const analysis = analyseTrace(decodeAll(trace));
    if (!analysis) return undefined;
    const ctx: SummaryContext = {
      analysis,
      metrics: await this.metricsOf(analysis, signal),
      concurrent: this.p.recent.around(trace.traceId, trace.openedAt, CONCURRENT_WINDOW_MS),
      metricsWindowMs: this.p.metricsWindowMs,
      concurrentWindowMs: CONCURRENT_WINDOW_MS,
    };
    const prompt = buildPrompt(ctx, redactor);
    const startedAt = clock.now();
    const result = (
      completion: string,
      summary: string,
      by: string,
      model: string,
      reason: string | null,
    ) => ({
      trace,
      analysis,
      prompt,
      completion,
      summary,
      provider: by,
      model,
      startedAt,
      endedAt: clock.now(),
      fallbackReason: reason,
    });
    const builtin = (reason: string | null) => {
      const text = builtinSummary(ctx, redactor);
      return result(text, text, 'builtin', 'builtin', reason);
    };
    if (!provider) return builtin(null);
    const failed = (reason: string) => {
      if (this.p.fallback === 'builtin') return builtin(reason);
      this.p.metrics.dropped(reason === 'shutdown' ? 'shutdown' : 'no_summary', 1);
      return undefined;
    };
    if (this.p.stopping()) return failed('shutdown');
    if (!this.p.breaker.allow()) {
      this.p.metrics.request(provider.name, 'circuit_open', undefined);
      return failed('circuit_open');
    }
    try {
      const c = await provider.complete(prompt, signal);
      const summary = tidyCompletion(c.text);
      if (summary === '') throw new ProviderError('empty', 'the model answered with no text');
      this.p.breaker.success();
      this.p.incidents.recovered('model', `the model at ${provider.name} answers again`);
      this.p.metrics.request(provider.name, 'ok', (clock.now() - startedAt) / 1000);
      this.countTokens(c.model, c.promptTokens, c.completionTokens, prompt, c.text);
      return result(c.text, summary, provider.name, c.model, null);
    } catch (err) {
      if (this.p.stopping()) return failed('shutdown');
      const kind = err instanceof ProviderError ? err.kind : 'network';
      this.p.breaker.failure();
      this.p.metrics.request(provider.name, kind, (clock.now() - startedAt) / 1000);
      this.p.incidents.failed(
        'model',
        `summary request to the ${provider.name} model failed: ${errorMessage(err)}; ${
          this.p.fallback === 'builtin' ? 'writing the built-in summary instead' : 'no summary'
        }`,
        err,
      );
      return failed(kind);
    }
  }

  private async metricsOf(
    a: TraceAnalysis,
    signal: AbortSignal,
  ): Promise<Map<string, readonly ReadingSummary[]>> {
    const at = a.origin.span.startMs;
    const out = new Map<string, readonly ReadingSummary[]>();
    for (const service of involvedServices(a)) {
      const own = this.p.window.read(service, at);
      out.set(service, own);
      if (!this.p.prometheus) continue;
      try {
        const extra = await this.p.prometheus.read(service, at, signal);
        const have = new Set(own.map((r) => r.reading));
        out.set(service, [...own, ...extra.filter((r) => !have.has(r.reading))]);
        this.p.incidents.recovered('prometheus', 'Prometheus answers again');
      } catch (err) {
        this.p.metrics.deliveryFailed('prometheus');
        this.p.incidents.failed(
          'prometheus',
          `querying Prometheus failed: ${errorMessage(err)}`,
          err,
        );
      }
    }
    return out;
  }

  /** Counts the server's token numbers (estimated at 4 characters a token when it gave none). */
  private countTokens(
    model: string,
    promptTokens: number | undefined,
    completionTokens: number | undefined,
    prompt: Prompt,
    completion: string,
  ): void {
    const pt = promptTokens ?? Math.ceil((prompt.system.length + prompt.user.length) / 4);
    const ct = completionTokens ?? Math.ceil(completion.length / 4);
    const { promptPer1k, completionPer1k } = this.p.cost;
    this.p.metrics.tokens(model, pt, ct, (pt / 1000) * promptPer1k + (ct / 1000) * completionPer1k);
  }
}

function decodeAll(trace: HeldTrace): SpanInfo[] {
  const out: SpanInfo[] = [];
  for (const s of trace.spans) {
    try {
      out.push(decodeSpan(s.bytes, s.service));
    } catch {
      // The receiver validated every span; a span that still does not decode is left out.
    }
  }
  return out;
}
