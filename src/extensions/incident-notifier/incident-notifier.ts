import type { Logger } from 'pino';
import type { Extension, Host } from '../../component/component.js';
import type { CreateSettings } from '../../component/factory.js';
import { ANOMALY_INCIDENTS, type IncidentChange } from '../../detectors/anomaly/contract.js';
import type { IncidentNotifierConfig, ReceiverConfig } from './config.js';
import {
  pagerDutyEvent,
  slackMessage,
  webhookBody,
  type Links,
  type Notification,
} from './internal/messages.js';
import { NotifierMetrics } from './internal/notifier-metrics.js';
import { PAGERDUTY_429_MS, PostJson } from './internal/post-json.js';
import { ReceiverQueue, type Job } from './internal/receiver-queue.js';
import { Redactor } from './internal/redactor.js';
import { receiversFor } from './internal/routing.js';

/** Incidents remembered with the receivers told of them (entries go when they resolve). */
const MAX_TRACKED = 10_000;

interface Receiver {
  readonly name: string;
  readonly config: ReceiverConfig;
  readonly post: PostJson;
  readonly queue: ReceiverQueue;
}

/**
 * The `incident_notifier` extension: hears the incidents of the anomaly processors (never on the
 * traffic path: the engine tells it of changes, it queues and returns) and notifies the receivers
 * their routes choose: once when an incident opens, once each time it gets worse, once when its
 * summary arrives, once when it resolves (only receivers told of it before). Each receiver has its
 * own bounded queue, rate limit and retries (internal/receiver-queue.ts).
 */
export class IncidentNotifier implements Extension {
  private readonly receivers = new Map<string, Receiver>();
  private readonly told = new Map<string, Set<string>>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly redactor: Redactor;
  private readonly links: Links;
  private readonly metrics: NotifierMetrics;
  private readonly logger: Logger;
  private readonly failing = new Set<string>();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: IncidentNotifierConfig,
  ) {
    this.logger = settings.logger;
    this.redactor = new Redactor(config.redaction.mask_values);
    this.links = { consoleUrl: config.console_url, jaegerUiUrl: config.jaeger_ui_url };
    this.metrics = new NotifierMetrics(settings.metrics, settings.id);
  }

  start(host: Host): Promise<void> {
    const { clock } = this.settings;
    const c = this.config;
    for (const [name, rc] of Object.entries(c.receivers)) {
      const post = new PostJson(
        rc.url,
        rc.headers,
        c.timeout,
        clock,
        [rc.routing_key ?? ''],
        rc.type === 'pagerduty' ? PAGERDUTY_429_MS : undefined,
      );
      const queue = new ReceiverQueue(
        {
          queueSize: c.queue_size,
          perMinute: rc.rate_limit_per_minute,
          initialMs: c.retry.initial_interval,
          maxMs: c.retry.max_interval,
          maxElapsedMs: c.retry.max_elapsed_time,
        },
        clock,
        (job) => post.post(job.body),
        {
          sent: (job, at) => this.sent(name, job, at),
          failed: (job, reason, retrying) => this.failed(name, rc, job, reason, retrying),
          dropped: (job, why) => this.metrics.result(name, job.kind, `dropped_${why}`),
        },
      );
      this.receivers.set(name, { name, config: rc, post, queue });
    }
    // One source per processor id (found once, whatever the pipelines that list it).
    const sources = host
      .lookup(ANOMALY_INCIDENTS)
      .filter((p) => c.processor === undefined || p.id === c.processor);
    for (const { id, value } of sources) {
      this.unsubscribe.push(value.subscribe((change) => this.changed(id, change)));
    }
    if (sources.length === 0) {
      this.logger.warn(
        { processor: c.processor },
        'incident_notifier: no anomaly processor with incidents enabled; nothing will be notified',
      );
    }
    this.logger.info(
      { receivers: [...this.receivers.keys()], routes: c.routes.length },
      'incident notifications on',
    );
    return Promise.resolve();
  }

  /** Resolves once every receiver's queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.receivers.values()].map((r) => r.queue.idle()));
  }

  /** Resolves once no request is in flight (retries may be waiting on the clock). */
  async settled(): Promise<void> {
    await Promise.all([...this.receivers.values()].map((r) => r.queue.settled()));
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      for (const u of this.unsubscribe.splice(0)) u();
      // Drain: what is queued gets one attempt each, within the timeout; the rest is dropped and
      // counted.
      let timer: { cancel(): void } | undefined;
      await Promise.race([
        Promise.all([...this.receivers.values()].map((r) => r.queue.drain())),
        new Promise<void>((resolve) => {
          timer = this.settings.clock.setTimeout(resolve, this.config.timeout).unref();
        }),
      ]);
      timer?.cancel();
      for (const r of this.receivers.values()) r.queue.close();
      await Promise.all([...this.receivers.values()].map((r) => r.post.close()));
    })();
    return this.stopping;
  }

  private changed(processor: string, change: IncidentChange): void {
    if (change.type === 'updated') return;
    const i = change.incident;
    // Taken over from a fleet's instance gone: its receivers heard of it from that instance.
    const known =
      this.told.get(i.id) ?? (change.inherited ? receiversFor(this.config.routes, i) : undefined);
    const told = known && new Set(known);
    let targets: Set<string>;
    if (change.type === 'resolved' || change.type === 'summary') {
      targets = told ?? new Set();
      if (change.type === 'resolved') this.told.delete(i.id);
    } else {
      targets = receiversFor(this.config.routes, i);
      if (targets.size === 0) return;
      if (!told && this.told.size >= MAX_TRACKED) {
        this.told.delete(this.told.keys().next().value!);
      }
      const set = known ?? new Set<string>();
      for (const t of targets) set.add(t);
      this.told.set(i.id, set);
    }
    const now = this.settings.clock.now();
    for (const name of targets) {
      const r = this.receivers.get(name);
      if (!r) continue;
      // A receiver that hears of an incident first as it gets worse is told it opened.
      const kind = change.type === 'worse' && !told?.has(name) ? 'opened' : change.type;
      const n: Notification = { kind, processor, incident: i };
      r.queue.push({
        body: this.message(r.config, n),
        urgent: i.severity === 1 && (kind === 'opened' || kind === 'reopened' || kind === 'worse'),
        queuedAt: now,
        incidentId: i.id,
        kind,
      });
    }
  }

  private message(rc: ReceiverConfig, n: Notification): unknown {
    if (rc.type === 'slack') return slackMessage(n, this.links, this.redactor);
    if (rc.type === 'pagerduty')
      return pagerDutyEvent(n, rc.routing_key!, this.links, this.redactor);
    return webhookBody(n, this.links, this.redactor);
  }

  private sent(name: string, job: Job, at: number): void {
    this.metrics.result(name, job.kind, 'sent');
    this.metrics.delay(name, (at - job.queuedAt) / 1000);
    if (this.failing.delete(name)) {
      this.logger.info({ receiver: name }, 'incident notifications are delivered again');
    }
  }

  private failed(
    name: string,
    rc: ReceiverConfig,
    job: Job,
    reason: string,
    retrying: boolean,
  ): void {
    this.metrics.result(name, job.kind, retrying ? 'retried' : 'failed');
    if (this.failing.has(name)) return;
    this.failing.add(name);
    // Never the URL, its query or headers: they hold the receiver's secret.
    this.logger.warn(
      { receiver: name, type: rc.type, reason, retrying },
      'an incident notification failed (logged once until one is delivered; counted in hourglass_incident_notifications_total)',
    );
  }
}
