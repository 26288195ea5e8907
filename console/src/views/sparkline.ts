import { html } from '../html.js';

/**
 * Tagged spans per step as bars (plain SVG): the tallest bar is the largest step. The numbers are
 * in the label for screen readers and in each bar's tooltip.
 */
export function Sparkline({
  counts,
  stepMs,
  until,
  label,
}: {
  counts: readonly number[];
  stepMs: number;
  until: string;
  label: string;
}) {
  const max = Math.max(1, ...counts);
  const w = 120;
  const h = 28;
  const bw = w / Math.max(1, counts.length);
  const end = Date.parse(until);
  const at = (i: number) =>
    new Date(end - (counts.length - i) * stepMs).toLocaleTimeString('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
  return html`<svg
    class="sparkline"
    viewBox=${`0 0 ${w} ${h}`}
    preserveAspectRatio="none"
    role="img"
    aria-label=${label}
  >
    <line x1="0" y1=${h - 0.5} x2=${w} y2=${h - 0.5} class="axis" />
    ${counts.map((c, i) =>
      c === 0
        ? null
        : html`<rect
            x=${i * bw + 0.5}
            y=${h - Math.max(1.5, (c / max) * h)}
            width=${Math.max(0.5, bw - 1)}
            height=${Math.max(1.5, (c / max) * h)}
          >
            <title>${c} tagged from ${at(i)}</title>
          </rect>`,
    )}
  </svg>`;
}
