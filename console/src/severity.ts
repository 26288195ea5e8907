import { html } from './html.js';
import { Choice } from './views/choice.js';

export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4', 'SEV5'] as const;
export type Severity = (typeof SEVERITIES)[number];

const SEVERITY_LABELS: Readonly<Record<Severity, string>> = {
  SEV1: 'critical',
  SEV2: 'major',
  SEV3: 'moderate',
  SEV4: 'minor',
  SEV5: 'low',
};

function isSeverity(s: unknown): s is Severity {
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
}

/** 1 for SEV1 .. 5 for SEV5; 6 for anything else (sorts last). */
export function severityNumber(s: string): number {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i < 0 ? 6 : i + 1;
}

/** A badge in the severity's colour that says it in words too (never colour alone). */
export function SeverityBadge({ severity, short }: { severity: string; short?: boolean }) {
  const known = isSeverity(severity);
  const label = known ? SEVERITY_LABELS[severity] : '';
  return html`<span
    class=${`badge sev ${known ? severity.toLowerCase() : 'sev-unknown'}`}
    title=${known ? `${severity}: ${label}` : severity}
    >${severity}${short || !known ? '' : html` <span class="badge-label">${label}</span>`}</span
  >`;
}

/** The severity filter: "any severity" or "SEVn and worse". */
export function SeverityChoice({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
}) {
  return html`<${Choice}
    id=${id}
    label="Severity"
    value=${value}
    all="any severity"
    options=${SEVERITIES.map((s) => [
      s,
      `${s === 'SEV1' ? 'SEV1 only' : `${s} and worse`} (${SEVERITY_LABELS[s]})`,
    ])}
    onChange=${onChange}
  />`;
}
