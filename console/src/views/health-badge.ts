import { html } from '../html.js';

const TEXT: Readonly<Record<string, string>> = {
  ok: 'ok',
  degraded: 'degraded',
  critical: 'critical',
};

/** A service's health in colour and in words. */
export function HealthBadge({ status }: { status: string }) {
  const known = TEXT[status] !== undefined;
  return html`<span class=${`badge health health-${known ? status : 'unknown'}`}
    >${known ? TEXT[status] : status}</span
  >`;
}
