import type { Slot } from '../api-types.js';
import { count, ms } from '../format.js';
import { html } from '../html.js';
import { SEVERITIES, SeverityBadge } from '../severity.js';

/** The numbers of one bucket: samples, mean, percentiles, thresholds, and what scores it now. */
export function SlotPanel({ slot, isNow }: { slot: Slot; isNow: boolean }) {
  const t = slot.thresholds;
  return html`<div class="slot-panel" aria-live="polite" id="slot-panel">
    <h3>${slot.window}${isNow ? ' (now)' : ''}</h3>
    <dl class="facts">
      <dt>Samples</dt>
      <dd data-field="samples">${count(slot.samples)}</dd>
      <dt>Mean</dt>
      <dd data-field="mean">
        ${ms(slot.mean_ms)}${slot.stddev_ms !== null ? ` ± ${ms(slot.stddev_ms)}` : ''}
      </dd>
      <dt>p50</dt>
      <dd data-field="p50">${ms(slot.p50_ms)}</dd>
      <dt>p95</dt>
      <dd data-field="p95">${ms(slot.p95_ms)}</dd>
      <dt>p99</dt>
      <dd data-field="p99">${ms(slot.p99_ms)}</dd>
      <dt>Scored by</dt>
      <dd>
        ${
          slot.served_by
            ? slot.served_by.scope === slot.scope
              ? 'this bucket'
              : `${slot.served_by.window} (${slot.served_by.scope}): this bucket has too few samples`
            : 'nothing yet: no level has enough samples, so spans here are not tagged'
        }
      </dd>
    </dl>
    <table class="thresholds">
      <caption>
        Thresholds
        (${t.source === 'learned' ? 'learned from this bucket’s history' : 'fixed cold-start values'})
      </caption>
      <thead>
        <tr>
          <th scope="col">Severity</th>
          <th scope="col">from</th>
          <th scope="col">σ</th>
        </tr>
      </thead>
      <tbody>
        ${[...SEVERITIES].reverse().map(
          (s) =>
            html`<tr>
              <th scope="row"><${SeverityBadge} severity=${s} /></th>
              <td>${t.ms ? ms(t.ms[s]) : '–'}</td>
              <td>${t.sigma[s]?.toFixed(2) ?? '–'}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
