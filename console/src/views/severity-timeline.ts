import { time } from '../format.js';
import { html } from '../html.js';
import { SEVERITIES, severityNumber } from '../severity.js';

/**
 * An incident's severity over time as a step chart (plain SVG): SEV1 at the top, one step per
 * change, up to its resolution (or now). The changes are listed below it in words too.
 */
export function SeverityTimeline({
  points,
  end,
}: {
  points: readonly { at: string; severity: string }[];
  end: string | null;
}) {
  const valid = points.filter(
    (p) => Number.isFinite(Date.parse(p.at)) && severityNumber(p.severity) <= 5,
  );
  if (valid.length === 0) return html`<p class="notice">No severity changes recorded.</p>`;
  const t0 = Date.parse(valid[0]!.at);
  const t1 = Math.max(end ? Date.parse(end) : Date.now(), Date.parse(valid.at(-1)!.at), t0 + 1);
  const w = 600;
  const h = 120;
  const left = 44;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (w - left - 8);
  const y = (s: string) => 10 + (severityNumber(s) - 1) * 25;
  let d = '';
  valid.forEach((p, i) => {
    const px = x(Date.parse(p.at));
    d += i === 0 ? `M${px},${y(p.severity)}` : `H${px}V${y(p.severity)}`;
  });
  d += `H${x(t1)}`;
  return html`<figure class="timeline">
    <svg viewBox=${`0 0 ${w} ${h}`} role="img" aria-label="Severity over time">
      ${SEVERITIES.map(
        (s) =>
          html`<g>
            <line x1=${left} x2=${w - 8} y1=${y(s)} y2=${y(s)} class="grid" />
            <text x="0" y=${y(s) + 4} class=${`tick ${s.toLowerCase()}`}>${s}</text>
          </g>`,
      )}
      <path d=${d} class="step" />
    </svg>
    <figcaption>
      <ol class="changes">
        ${valid.map((p) => html`<li>${time(p.at)}: ${p.severity}</li>`)}
      </ol>
    </figcaption>
  </figure>`;
}
