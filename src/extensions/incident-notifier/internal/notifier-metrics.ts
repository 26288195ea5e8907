import type { Counter, Histogram } from 'prom-client';
import type { SelfMetrics } from '../../../telemetry/self-metrics.js';

/** Notification outcomes and delays, by receiver (names come from the config: bounded). */
export class NotifierMetrics {
  private readonly results: Counter;
  private readonly delays: Histogram;

  constructor(
    metrics: SelfMetrics,
    private readonly id: string,
  ) {
    this.results = metrics.counter(
      'hourglass_incident_notifications_total',
      'Incident notifications by receiver, kind (opened, worse, summary, resolved) and result: sent, retried (an attempt failed, retrying), failed (given up), dropped_queue_full, dropped_shutdown.',
      ['extension', 'receiver', 'kind', 'result'],
    );
    this.delays = metrics.histogram(
      'hourglass_incident_notification_delay_seconds',
      'From the incident change to its notification being accepted by the receiver.',
      ['extension', 'receiver'],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    );
  }

  result(receiver: string, kind: string, result: string): void {
    this.results.inc({ extension: this.id, receiver, kind, result });
  }

  delay(receiver: string, seconds: number): void {
    this.delays.observe({ extension: this.id, receiver }, seconds);
  }
}
