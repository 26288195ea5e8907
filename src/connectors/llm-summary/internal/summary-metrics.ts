import type { SelfMetrics } from '../../../telemetry/self-metrics.js';
import type { CircuitState } from './providers/index.js';

/** Why an anomaly (or a span of one) did not make it into a summary. */
export type DropReason =
  | 'traces_limit'
  | 'spans_limit'
  | 'bytes_limit'
  | 'late'
  | 'queue_full'
  | 'no_summary'
  | 'shutdown';

/** The exporter's own metrics (`hourglass_llm_summary_*`), labelled with its id. */
export class SummaryMetrics {
  private readonly exporter: { exporter: string };

  constructor(
    private readonly m: SelfMetrics,
    id: string,
  ) {
    this.exporter = { exporter: id };
  }

  /** A model request ended: `ok`, a failure kind, or `circuit_open` (not sent). */
  request(provider: string, result: string, seconds: number | undefined): void {
    this.m
      .counter('hourglass_llm_summary_requests_total', 'Requests to the model, by result.', [
        'exporter',
        'provider',
        'result',
      ])
      .inc({ ...this.exporter, provider, result });
    if (seconds === undefined) return;
    this.m
      .histogram(
        'hourglass_llm_summary_request_duration_seconds',
        'Time from sending a request to the model to its complete answer.',
        ['exporter', 'provider'],
        [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      )
      .observe({ ...this.exporter, provider }, seconds);
  }

  /** Tokens as the model server counted them, and their estimated cost. */
  tokens(model: string, prompt: number, completion: number, cost: number): void {
    const c = this.m.counter(
      'hourglass_llm_summary_tokens_total',
      'Tokens used by summary requests, as the model server counted them.',
      ['exporter', 'model', 'type'],
    );
    c.inc({ ...this.exporter, model, type: 'prompt' }, prompt);
    c.inc({ ...this.exporter, model, type: 'completion' }, completion);
    this.m
      .counter(
        'hourglass_llm_summary_cost_total',
        'Estimated cost of the summary requests, in the currency of the configured prices.',
        ['exporter', 'model'],
      )
      .inc({ ...this.exporter, model }, cost);
  }

  /** A summary was published (provider `builtin` when it replaced a failing model). */
  summary(provider: string): void {
    this.m
      .counter('hourglass_llm_summary_summaries_total', 'Anomaly summaries published.', [
        'exporter',
        'provider',
      ])
      .inc({ ...this.exporter, provider });
  }

  dropped(reason: DropReason, n: number): void {
    if (n <= 0) return;
    this.m
      .counter(
        'hourglass_llm_summary_dropped_total',
        'Anomalous traces (or spans of them, for the *_limit reasons) not summarized.',
        ['exporter', 'reason'],
      )
      .inc({ ...this.exporter, reason }, n);
  }

  /** A summary span, webhook post or history update failed. */
  deliveryFailed(target: 'span' | 'webhook' | 'history' | 'storage' | 'prometheus'): void {
    this.m
      .counter(
        'hourglass_llm_summary_delivery_failures_total',
        'Summary spans, webhook posts, history or storage writes and metric queries that failed.',
        ['exporter', 'target'],
      )
      .inc({ ...this.exporter, target });
  }

  circuit(state: CircuitState): void {
    this.m
      .gauge(
        'hourglass_llm_summary_circuit_state',
        'The circuit breaker in front of the model: 0 closed, 1 open, 2 half open.',
        ['exporter'],
      )
      .set(this.exporter, state === 'closed' ? 0 : state === 'open' ? 1 : 2);
  }

  held(traces: number, bytes: number, queued: number): void {
    const g = (name: string, help: string, v: number) =>
      this.m.gauge(name, help, ['exporter']).set(this.exporter, v);
    g('hourglass_llm_summary_held_traces', 'Anomalous traces held for their window.', traces);
    g('hourglass_llm_summary_held_bytes', 'Bytes of spans held.', bytes);
    g('hourglass_llm_summary_queue_size', 'Anomalous traces waiting to be summarized.', queued);
  }
}
