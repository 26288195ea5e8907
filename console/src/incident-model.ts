/**
 * The incidents API (issue 13, DESIGN.md "Admin API") as the console reads it. Every field the
 * views use is read here, so a change in the API's shape is a change in this file only.
 *
 * GET /api/v1/incidents?status=&service=&min_severity=  -> { incidents: Incident[] }
 * GET /api/v1/incidents/{id}                            -> Incident
 * GET /api/v1/incidents/stream                          -> server-sent `event: incident`, data: Incident
 * GET /api/v1/health                                    -> { services: Health[] }
 * Each answers 404 when no incidents component is configured.
 */

import { count, ratio, time } from './format.js';

export interface Incident {
  readonly id: string;
  readonly status: 'open' | 'resolved' | string;
  readonly severity: string;
  readonly opened_at: string;
  readonly updated_at: string;
  readonly resolved_at: string | null;
  /**
   * Why it resolved (null while open): `quiet`, or, held open while its origin stayed slower
   * (`hold_while_slower`), `recovered`, `spans_stopped` or `max_hold`. Absent from older servers.
   */
  readonly resolution?: 'quiet' | 'recovered' | 'spans_stopped' | 'max_hold' | string | null;
  /**
   * Set while it is held open past its quiet period because its origin is still slower
   * (`hold_while_slower`): since its last slow tag, how many spans of its origin were read, and
   * how many times slower than usual they are (null before the first). Absent from older servers.
   */
  readonly held?: {
    readonly since: string;
    readonly readings: number;
    readonly slower_by: number | null;
  } | null;
  /** Where the time was lost: a service's operation, or a call edge to `peer_service`. */
  readonly origin: {
    readonly service: string;
    readonly operation?: string | null;
    readonly peer_service?: string | null;
  } | null;
  readonly services: readonly { readonly service: string; readonly count: number }[];
  readonly operations: readonly {
    readonly service: string;
    readonly operation: string;
    readonly count: number;
  }[];
  /** Severity over time: each change, oldest first. */
  readonly severity_timeline: readonly { readonly at: string; readonly severity: string }[];
  readonly sample_traces: readonly { readonly trace_id: string; readonly jaeger_url?: string }[];
  /** `anomaly_id`: an anomaly of the summarized trace, the id the feedback API takes. */
  readonly summary: { readonly text: string; readonly anomaly_id: string } | null;
}

export interface Health {
  readonly service: string;
  readonly status: 'ok' | 'degraded' | 'critical' | string;
  readonly incidents: readonly string[];
}

export const INCIDENTS = '/api/v1/incidents';
export const INCIDENT_STREAM = '/api/v1/incidents/stream';
export const HEALTH = '/api/v1/health';

/** Lists may be missing from an answer: the views read them through these. */
export function listOf<T>(v: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

/** `payments POST /charge`, or `checkout → payments` for time lost on a call edge. */
export function originText(o: Incident['origin']): string {
  if (!o) return 'not known yet';
  if (o.peer_service)
    return `${o.service} → ${o.peer_service}${o.operation ? ` (${o.operation})` : ''}`;
  return o.operation ? `${o.service} ${o.operation}` : o.service;
}

/** Why an incident resolved, as on-call reads it: a few words for lists, a sentence for the page. */
export interface ResolutionText {
  readonly label: string;
  readonly text: string;
}

const HELD = 'Held open past its quiet period while its origin stayed slower than usual';
const RESOLUTIONS: Readonly<Record<string, ResolutionText>> = {
  quiet: { label: 'quiet', text: 'Nothing slow was tagged for its quiet period.' },
  recovered: {
    label: 'recovered',
    text: `${HELD}; resolved once its origin was back to its usual speed.`,
  },
  spans_stopped: {
    label: 'spans stopped',
    text: `${HELD}; resolved when its origin sent no spans for its quiet period, still slower when last seen.`,
  },
  max_hold: {
    label: 'held the maximum',
    text: `${HELD}, for the longest it may be held (max_hold, 24 h unless configured); its origin was still slower.`,
  },
};

/** Why `i` resolved; undefined while it is open. A value this console does not know is shown as it is. */
export function resolutionOf(i: Incident): ResolutionText | undefined {
  if (i.status !== 'resolved') return undefined;
  const r = i.resolution ?? 'quiet';
  return Object.hasOwn(RESOLUTIONS, r) ? RESOLUTIONS[r] : { label: r, text: `Resolved: ${r}.` };
}

/**
 * Whether an open incident is held past its quiet period, as on-call reads it: a few words for
 * lists (`held: 2.3x slower`), a sentence for the page; undefined when it is not held.
 */
export function heldOf(i: Incident): ResolutionText | undefined {
  const h = i.held;
  if (i.status !== 'open' || !h) return undefined;
  const slower = h.slower_by === null ? 'still slower' : `${ratio(h.slower_by)} slower`;
  const read =
    h.slower_by === null
      ? 'its spans since then are being read'
      : `${count(h.readings)} of its spans read since then`;
  return {
    label: `held: ${slower}`,
    text: `Its quiet period has passed since its last slow tag (${time(h.since)}), but its origin is ${slower} than usual (${read}). It resolves once its origin is back to its usual speed, sends no spans for its quiet period, or has been held for max_hold.`,
  };
}
