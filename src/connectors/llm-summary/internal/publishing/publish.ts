import { batchOf } from '../../../../component/consumer.js';
import { errorMessage } from '../../../../component/errors.js';
import { severityText, type SummaryResult } from '../writing/index.js';
import type { Incidents } from '../incidents.js';
import type { Redactor } from '../redaction/redact.js';
import type { SummaryLinks } from './summary-links.js';
import { encodeSummarySpans, newSpanId } from './summary-span.js';
import type { SummaryMetrics } from '../summary-metrics.js';
import type { SummaryStore } from '../store/summary-store.js';
import type { Webhook, WebhookItem } from './webhook.js';
import { webhookMessage } from './webhook.js';

export interface PublishTargets {
  readonly links: SummaryLinks;
  readonly store: SummaryStore | undefined;
  readonly webhook: Webhook | undefined;
  readonly jaegerUiUrl: string | undefined;
  readonly resource: Readonly<Record<string, string>>;
  readonly version: string;
  readonly metrics: SummaryMetrics;
  readonly incidents: Incidents;
  /** Masks what goes to the webhook (names can hold personal data). */
  readonly redactor: Redactor;
}

/** The anomaly ids a summary covers: every tagged span of its trace. */
function anomalyIds(r: SummaryResult): string[] {
  return r.analysis.anomalies.map((a) => `${a.span.traceId}-${a.span.spanId}`);
}

/** The attributes of a summary span (names masked as everything else that leaves). */
function summaryAttributes(
  r: SummaryResult,
  redactor: Redactor,
): [string, string | number | boolean][] {
  const a = r.analysis;
  const o = a.origin.span;
  const severity = a.anomalies[0]!.anomaly!.severity;
  return [
    ['anomaly.summary.text', r.summary],
    ['anomaly.summary.provider', r.provider],
    ['anomaly.summary.model', r.model],
    ['anomaly.summary.severity', severityText(severity)],
    ['anomaly.summary.severity_number', severity],
    ['anomaly.summary.origin.service', redactor.text(o.service)],
    ['anomaly.summary.origin.operation', redactor.text(o.name)],
    ['anomaly.summary.origin.span_id', o.spanId],
    ['anomaly.summary.origin.excess_ms', Math.round(a.origin.excessMs * 1000) / 1000],
    ['anomaly.summary.anomaly_id', `${a.anchor.span.traceId}-${a.anchor.span.spanId}`],
    ['anomaly.summary.anomalies', a.anomalies.length],
    ...(r.fallbackReason
      ? [['anomaly.summary.fallback_reason', r.fallbackReason] as [string, string]]
      : []),
  ];
}

/**
 * Delivers one batch of summaries: one request of summary spans to the pipelines the connector
 * feeds, the summary onto every anomaly of the trace in the history, the prompt and completion
 * into the summary store, one webhook message. Each target failing is counted and logged once;
 * none stops the others.
 */
export async function publish(
  results: readonly SummaryResult[],
  t: PublishTargets,
  signal: AbortSignal,
): Promise<void> {
  if (results.length === 0) return;
  for (const r of results) t.metrics.summary(r.provider);
  const spans = results.map((r) => ({
    traceId: r.analysis.traceId,
    parentSpanId: r.analysis.anchor.span.spanId,
    spanId: newSpanId(),
    startMs: r.startedAt,
    endMs: r.endedAt,
    attributes: summaryAttributes(r, t.redactor),
  }));
  const batch = batchOf('traces', encodeSummarySpans(spans, t.resource, t.version), spans.length);
  if (t.links.spans) {
    try {
      await t.links.spans.consume(batch);
      t.incidents.recovered('span', 'the pipelines after this connector take summary spans again');
    } catch (err) {
      t.metrics.deliveryFailed('span');
      t.incidents.failed(
        'span',
        `the pipelines after this connector refused summary spans: ${errorMessage(err)}`,
        err,
      );
    }
  }
  for (const sink of t.links.historySinks) {
    try {
      for (const r of results) sink.attachSummary(anomalyIds(r), r.summary);
    } catch (err) {
      t.metrics.deliveryFailed('history');
      t.incidents.failed(
        'history',
        `cannot add summaries to the anomaly history: ${errorMessage(err)}`,
        err,
      );
    }
  }
  store(results, t);
  if (t.webhook) {
    const items: WebhookItem[] = results.map((r) => {
      const top = r.analysis.chain.find((s) => s.anomaly) ?? r.analysis.anchor;
      return {
        severity: r.analysis.anomalies[0]!.anomaly!.severity,
        service: t.redactor.text(top.span.service),
        operation: t.redactor.text(top.span.name),
        durationMs: top.span.durationMs,
        summary: r.summary,
        traceId: r.analysis.traceId,
        spanId: r.analysis.anchor.span.spanId,
      };
    });
    const err = await t.webhook.send(webhookMessage(items, t.jaegerUiUrl), signal);
    if (err) {
      t.metrics.deliveryFailed('webhook');
      t.incidents.failed('webhook', `posting summaries to the webhook failed: ${err.message}`, err);
    } else {
      t.incidents.recovered('webhook', 'the webhook takes summaries again');
    }
  }
}

function store(results: readonly SummaryResult[], t: PublishTargets): void {
  if (!t.store) return;
  try {
    t.store.insert(
      results.map((r) => ({
        id: `${r.analysis.traceId}-${r.analysis.anchor.span.spanId}`,
        traceId: r.analysis.traceId,
        spanId: r.analysis.anchor.span.spanId,
        anomalyIds: anomalyIds(r),
        createdAt: r.endedAt,
        provider: r.provider,
        model: r.model,
        systemPrompt: r.prompt.system,
        prompt: r.prompt.user,
        completion: r.completion,
        summary: r.summary,
        severity: r.analysis.anomalies[0]!.anomaly!.severity,
        originService: r.analysis.origin.span.service,
        originOperation: r.analysis.origin.span.name,
        fallbackReason: r.fallbackReason,
        rating: null,
        correction: null,
        ratedAt: null,
      })),
    );
    t.incidents.recovered('storage', 'the summary store is writable again');
  } catch (err) {
    t.metrics.deliveryFailed('storage');
    t.incidents.failed(
      'storage',
      `cannot write summaries to the summary store: ${errorMessage(err)}`,
      err,
    );
  }
}
