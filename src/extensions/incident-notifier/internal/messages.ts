import {
  incidentJson,
  severityName,
  type IncidentView,
  type Resolution,
} from '../../../detectors/anomaly/contract.js';
import type { Redactor } from './redactor.js';

/**
 * What a receiver is told: an incident opened, got worse, got its summary, resolved, or reopened
 * (it came back soon after it resolved: `incidents.reopen_within`).
 */
export type NotificationKind = 'opened' | 'reopened' | 'worse' | 'summary' | 'resolved';

export interface Notification {
  readonly kind: NotificationKind;
  readonly processor: string;
  readonly incident: IncidentView;
}

export interface Links {
  readonly consoleUrl: string | undefined;
  readonly jaegerUiUrl: string | undefined;
}

const MAX_SUMMARY_CHARS = 2_000;
/** PagerDuty's `payload.summary` limit. */
const PD_SUMMARY_CHARS = 1_024;

/** Slack `mrkdwn` needs these three escaped; everything else is literal. */
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `payments POST /charge`, or `checkout → payments (POST /charge)` for a call edge. */
export function originText(i: IncidentView, r: Redactor): string {
  const o = i.origin;
  if (!o) return 'origin not known yet';
  const op = r.text(o.operation);
  if (o.peerService) return `${r.text(o.service)} → ${r.text(o.peerService)} (${op})`;
  return `${r.text(o.service)} ${op}`;
}

/** One line: `SEV1 incident opened: payments POST /charge is slow (3 services)`. */
export function headline(n: Notification, r: Redactor): string {
  const i = n.incident;
  const sev = severityName(i.severity);
  const what = {
    opened: 'opened',
    reopened: 'reopened',
    worse: `worse, now ${sev}`,
    summary: 'summary',
    resolved: 'resolved',
  }[n.kind];
  const services = i.services.length;
  return `${sev} incident ${what}: ${originText(i, r)} (${services} service${services === 1 ? '' : 's'}, ${i.spans} slow span${i.spans === 1 ? '' : 's'}) [${i.id}]`;
}

function consoleLink(id: string, links: Links): string | undefined {
  return links.consoleUrl ? `${links.consoleUrl}/#/incidents/${encodeURIComponent(id)}` : undefined;
}

function traceLinks(i: IncidentView, links: Links): { href: string; text: string }[] {
  if (!links.jaegerUiUrl) return [];
  return i.samples.map((s) => ({
    href: `${links.jaegerUiUrl}/trace/${s.traceId}?uiFind=${s.spanId}`,
    text: `trace ${s.traceId}`,
  }));
}

/** Why an incident held open while its origin stayed slower ended (`hold_while_slower`). */
const HELD_RESOLUTIONS: Record<Resolution, string> = {
  quiet: '',
  recovered: ': its origin is back to its usual speed',
  spans_stopped: ': its origin, still slower, has had no spans for its quiet period',
  max_hold: ': its origin is still slower, but it was held open for max_hold',
};

/** Block Kit: a section's text is at most 3000 characters. */
const SLACK_SECTION_CHARS = 3_000;
/** Room for the services line; the services beyond are counted ("and 12 more services"). */
const SLACK_SERVICES_CHARS = 1_000;

/** Escaped mrkdwn cut to `max` characters (marked `…`), never inside an escape or a surrogate pair. */
function cutMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text
    .slice(0, max - 1)
    .replace(/[\uD800-\uDBFF]$/, '')
    .replace(/&[a-z]{0,3}$/, '')}…`;
}

/** `Services: a (20), b (10) and 12 more services`: as many as fit in SLACK_SERVICES_CHARS. */
function servicesLine(i: IncidentView, r: Redactor): string {
  let line = 'Services: ';
  let shown = 0;
  for (const s of i.services) {
    const item = `${shown > 0 ? ', ' : ''}${escape(r.text(s.service))} (${s.count})`;
    if (shown > 0 && line.length + item.length > SLACK_SERVICES_CHARS) break;
    line += item;
    shown++;
  }
  const rest = i.services.length - shown;
  return rest > 0 ? `${line} and ${rest} more service${rest === 1 ? '' : 's'}` : line;
}

const section = (text: string) => ({
  type: 'section',
  text: { type: 'mrkdwn', text: cutMrkdwn(text, SLACK_SECTION_CHARS) },
});

/**
 * A Slack incoming-webhook message (`text`, the notification's fallback, and `blocks`: what
 * happened, the summary, the links, each a section within Block Kit's limits); Mattermost takes
 * it too. Both are mrkdwn: names and summaries are escaped.
 */
export function slackMessage(n: Notification, links: Links, r: Redactor): Record<string, unknown> {
  const i = n.incident;
  const text = escape(headline(n, r));
  const lines = [`*${text}*`];
  if (n.kind !== 'resolved') {
    lines.push(servicesLine(i, r));
    lines.push(`Since ${new Date(i.openedAt).toISOString()}`);
  } else if (i.resolvedAt !== null) {
    const why = i.resolution ? HELD_RESOLUTIONS[i.resolution] : '';
    lines.push(
      `Resolved at ${new Date(i.resolvedAt).toISOString()}, open since ${new Date(i.openedAt).toISOString()}${why}`,
    );
  }
  const blocks = [section(lines.join('\n'))];
  if (i.summary) blocks.push(section(escape(r.text(i.summary.text, MAX_SUMMARY_CHARS))));
  const link = consoleLink(i.id, links);
  const traces = traceLinks(i, links).slice(0, 3);
  const refs = [
    ...(link ? [`<${link}|Open the incident>`] : []),
    ...traces.map((t) => `<${t.href}|${t.text.slice(0, 14)}…>`),
  ];
  if (refs.length > 0) blocks.push(section(refs.join(' · ')));
  return { text, blocks };
}

const PD_SEVERITY = ['critical', 'critical', 'error', 'warning', 'info'] as const;

/**
 * A PagerDuty Events API v2 event: `trigger` on opened / reopened / worse / summary (the same `dedup_key`,
 * the incident id, so PagerDuty updates its alert instead of opening another), `resolve` on
 * resolved.
 */
export function pagerDutyEvent(
  n: Notification,
  routingKey: string,
  links: Links,
  r: Redactor,
): Record<string, unknown> {
  const i = n.incident;
  if (n.kind === 'resolved') {
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: i.id };
  }
  const link = consoleLink(i.id, links);
  // PagerDuty refuses an empty `source` (400): a service named "" would lose the page.
  const service = i.origin ? r.text(i.origin.service) : '';
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: i.id,
    payload: {
      summary: headline(n, r).slice(0, PD_SUMMARY_CHARS),
      source: service.trim() === '' ? 'hourglass' : service,
      severity: PD_SEVERITY[i.severity - 1],
      timestamp: new Date(i.openedAt).toISOString(),
      component: i.origin ? r.text(i.origin.operation) : undefined,
      group: i.origin?.peerService ? r.text(i.origin.peerService) : undefined,
      class: i.reason,
      custom_details: {
        severity: severityName(i.severity),
        origin: originText(i, r),
        services: i.services.map((s) => ({ service: r.text(s.service), count: s.count })),
        spans: i.spans,
        summary: i.summary ? r.text(i.summary.text, MAX_SUMMARY_CHARS) : undefined,
      },
    },
    client: 'hourglass',
    ...(link ? { client_url: link } : {}),
    links: [...(link ? [{ href: link, text: 'hourglass incident' }] : []), ...traceLinks(i, links)],
  };
}

/** The generic webhook's body: `{event, incident}`, the incident as the admin API serves it. */
export function webhookBody(n: Notification, links: Links, r: Redactor): Record<string, unknown> {
  const json = incidentJson(n.processor, redacted(n.incident, r), links.jaegerUiUrl);
  const link = consoleLink(n.incident.id, links);
  return { event: n.kind, incident: { ...json, ...(link ? { url: link } : {}) } };
}

function redacted(i: IncidentView, r: Redactor): IncidentView {
  return {
    ...i,
    origin: i.origin && {
      service: r.text(i.origin.service),
      operation: r.text(i.origin.operation),
      peerService: i.origin.peerService === null ? null : r.text(i.origin.peerService),
    },
    services: i.services.map((s) => ({ service: r.text(s.service), count: s.count })),
    operations: i.operations.map((o) => ({
      service: r.text(o.service),
      operation: r.text(o.operation),
      count: o.count,
    })),
    summary: i.summary && { ...i.summary, text: r.text(i.summary.text, MAX_SUMMARY_CHARS) },
  };
}
