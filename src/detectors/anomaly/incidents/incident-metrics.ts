import type { Counter, Gauge } from 'prom-client';
import type { SelfMetrics } from '../../../telemetry/self-metrics.js';
import { severityName } from '../internal/severity.js';
import type { Incident } from './incident.js';
import type { TaggedSpan } from './trace-groups.js';

const OTHER = 'other';

/**
 * The incidents' Prometheus metrics, for Alertmanager rules (docs/alertmanager-rules.yaml):
 * tagged spans by service and severity and open incidents by severity. Service labels are
 * bounded: beyond `maxServices` distinct services the rest are counted as `other`.
 */
export class IncidentMetrics {
  private readonly spans: Counter;
  private readonly openGauge: Gauge;
  private readonly openedTotal: Counter;
  private readonly refusedTotal: Counter;
  private readonly reopenedTotal: Counter;
  private readonly takenOverTotal: Counter;
  private readonly droppedTotal: Counter;
  private readonly services = new Set<string>();
  /** Tagged spans not yet added to the counter: per service label, per severity (1..5). */
  private readonly unflushed = new Map<string, number[]>();
  /** The series (`service \0 severity - 1`) of `unflushed` not at 0, in the order first counted. */
  private readonly series = new Set<string>();

  constructor(
    metrics: SelfMetrics,
    private readonly processor: string,
    private readonly maxServices: number,
  ) {
    this.spans = metrics.flushedCounter(
      'hourglass_anomaly_service_spans_tagged_total',
      'Spans tagged as anomalous, by service and severity (services beyond incidents.max_metric_services are counted as "other").',
      ['processor', 'service', 'severity'],
      () => this.flushTagged(),
    );
    this.openGauge = metrics.gauge('hourglass_incidents_open', 'Incidents open now, by severity.', [
      'processor',
      'severity',
    ]);
    this.openedTotal = metrics.counter(
      'hourglass_incidents_opened_total',
      'Incidents opened, by their severity when they opened.',
      ['processor', 'severity'],
    );
    this.refusedTotal = metrics.counter(
      'hourglass_incidents_refused_total',
      'Incidents not opened because incidents.max_open were open.',
      ['processor'],
    );
    this.reopenedTotal = metrics.counter(
      'hourglass_incidents_reopened_total',
      'Resolved incidents opened again because their origin came back within incidents.reopen_within.',
      ['processor'],
    );
    this.takenOverTotal = metrics.counter(
      'hourglass_incidents_taken_over_total',
      'Fleet incidents whose notifications this instance took over: the instance that opened them stopped writing before they resolved.',
      ['processor'],
    );
    this.droppedTotal = metrics.counter(
      'hourglass_incidents_unwritten_dropped_total',
      'Resolved incidents dropped unwritten because the database could not be written for long.',
      ['processor'],
    );
  }

  /**
   * Counts a request's tagged spans. Kept here, by service label and severity, and added to the
   * counter when it is read (`flushTagged`): prom-client hashes the labels of each increment, which
   * cost more than the rest of the incidents' work on a tagged span.
   */
  tagged(tagged: readonly TaggedSpan[]): void {
    for (const t of tagged) {
      const service = this.label(t.record.service);
      let counts = this.unflushed.get(service);
      if (counts === undefined) this.unflushed.set(service, (counts = [0, 0, 0, 0, 0]));
      const s = t.record.severity - 1;
      if (counts[s]! === 0) this.series.add(`${service}\u0000${s}`);
      counts[s]!++;
    }
  }

  /**
   * Adds the tagged spans counted since the last read to the counter, one increment a series, in
   * the order the series were first counted (as increments made at once would have listed them).
   */
  private flushTagged(): void {
    for (const key of this.series) {
      const at = key.lastIndexOf('\u0000');
      const service = key.slice(0, at);
      const s = Number(key.slice(at + 1));
      const counts = this.unflushed.get(service)!;
      this.spans.inc(
        { processor: this.processor, service, severity: severityName(s + 1) },
        counts[s]!,
      );
      counts[s] = 0;
    }
    this.series.clear();
  }

  open(incidents: readonly Incident[]): void {
    const counts = [0, 0, 0, 0, 0];
    for (const i of incidents) counts[i.severity - 1]!++;
    for (let s = 1; s <= 5; s++) {
      this.openGauge.set({ processor: this.processor, severity: severityName(s) }, counts[s - 1]!);
    }
  }

  opened(severity: number): void {
    this.openedTotal.inc({ processor: this.processor, severity: severityName(severity) });
  }

  refused(): void {
    this.refusedTotal.inc({ processor: this.processor });
  }

  takenOver(): void {
    this.takenOverTotal.inc({ processor: this.processor });
  }

  reopened(): void {
    this.reopenedTotal.inc({ processor: this.processor });
  }

  droppedUnwritten(): void {
    this.droppedTotal.inc({ processor: this.processor });
  }

  private label(service: string): string {
    if (this.services.has(service)) return service;
    if (this.services.size >= this.maxServices) return OTHER;
    this.services.add(service);
    return service;
  }
}
