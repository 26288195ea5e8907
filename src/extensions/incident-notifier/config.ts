import { z } from 'zod';
import { duration } from '../../config/schema.js';
import { severitySetting } from '../../detectors/anomaly/contract.js';

/** The settings of the `incident_notifier` extension; README.md documents each with its default. */

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const httpUrl = z.url({
  protocol: /^https?$/,
  error: 'must be an http(s) URL',
});

const receiver = z
  .strictObject({
    type: z.enum(['slack', 'pagerduty', 'webhook']),
    /** Slack: the incoming-webhook URL; PagerDuty: the Events API v2 endpoint; webhook: where to POST. */
    url: httpUrl.optional(),
    /** PagerDuty: the integration's routing key (a secret: write it as ${env:VAR}). */
    routing_key: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** Notifications per minute at most (SEV1 openings go first and are never held back by it). */
    rate_limit_per_minute: z.number().int().min(1).max(6_000).default(30),
  })
  .superRefine((r, ctx) => {
    if (r.type === 'pagerduty' && r.routing_key === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['routing_key'],
        message: 'a pagerduty receiver needs the routing_key of its Events API v2 integration',
      });
    }
    // PagerDuty's integration keys are 32 characters; it answers 400 to any other, so a typo would
    // be found only when the first incident is paged. Another host (a proxy) may take other keys.
    const atPagerDuty =
      r.url === undefined || /(^|\.)pagerduty\.com$/i.test(URL.parse(r.url)?.hostname ?? '');
    if (
      r.type === 'pagerduty' &&
      atPagerDuty &&
      r.routing_key !== undefined &&
      r.routing_key.length !== 32
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['routing_key'],
        message: `is ${r.routing_key.length} characters; PagerDuty's Events API v2 integration keys are 32, and it refuses events with another (400)`,
      });
    }
    if (r.type !== 'pagerduty' && r.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `a ${r.type} receiver needs a url` });
    }
    if (r.type !== 'pagerduty' && r.routing_key !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['routing_key'],
        message: 'only pagerduty receivers take a routing_key',
      });
    }
  })
  .transform((r) => ({
    ...r,
    url: r.url ?? PAGERDUTY_EVENTS_URL,
  }));

const route = z.strictObject({
  receivers: z.array(z.string().min(1)).min(1),
  /** Incidents of this severity or worse. */
  min_severity: severitySetting('SEV5'),
  /** Only incidents affecting one of these services (any, when absent). */
  services: z.array(z.string().min(1)).optional(),
});

const retry = z
  .strictObject({
    initial_interval: duration(1_000),
    max_interval: duration(30_000),
    max_elapsed_time: duration(300_000),
  })
  .prefault({} as never);

export const incidentNotifierSchema = z
  .strictObject({
    /** Id of the anomaly processor whose incidents are notified (default: every one). */
    processor: z.string().min(1).optional(),
    receivers: z.record(z.string().min(1), receiver),
    routes: z.array(route).min(1),
    /** Notifications waiting per receiver; beyond, new ones are dropped and counted. */
    queue_size: z.number().int().min(1).max(100_000).default(1_000),
    timeout: duration(10_000),
    retry,
    /** Base URL of the web console (the admin API's address), for links to the incident. */
    console_url: httpUrl.optional().transform((v) => v?.replace(/\/+$/, '')),
    /** Base URL of the Jaeger UI, for links to sample traces. */
    jaeger_ui_url: httpUrl.optional().transform((v) => v?.replace(/\/+$/, '')),
    redaction: z.strictObject({ mask_values: z.boolean().default(true) }).prefault({}),
  })
  .superRefine((c, ctx) => {
    c.routes.forEach((r, i) => {
      r.receivers.forEach((name, j) => {
        if (!(name in c.receivers)) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'receivers', j],
            message: `no receiver "${name}" (receivers: ${Object.keys(c.receivers).join(', ') || 'none'})`,
          });
        }
      });
    });
  });

export type IncidentNotifierConfig = z.output<typeof incidentNotifierSchema>;
export type ReceiverConfig = IncidentNotifierConfig['receivers'][string];
