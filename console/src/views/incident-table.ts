import { span, time } from '../format.js';
import { html } from '../html.js';
import { heldOf, listOf, originText, resolutionOf, type Incident } from '../incident-model.js';
import { href } from '../router.js';
import { SeverityBadge } from '../severity.js';

/** `open for 4 min`, `open for 9 min, held: 2.3x slower`, `resolved: recovered`. */
function statusText(i: Incident): string {
  const held = heldOf(i);
  if (i.status === 'open') return `open for ${span(i.opened_at)}${held ? `, ${held.label}` : ''}`;
  const why = resolutionOf(i);
  return why ? `${i.status}: ${why.label}` : i.status;
}

/** Incidents as a table (a list of cards at phone width, by CSS). */
export function IncidentTable({ incidents }: { incidents: readonly Incident[] }) {
  return html`<table class="incidents cards">
    <thead>
      <tr>
        <th scope="col">Severity</th>
        <th scope="col">Origin</th>
        <th scope="col">Services</th>
        <th scope="col">Status</th>
        <th scope="col">Opened</th>
      </tr>
    </thead>
    <tbody>
      ${incidents.map(
        (i) =>
          html`<tr key=${i.id} data-incident=${i.id}>
            <td data-label="Severity"><${SeverityBadge} severity=${i.severity} /></td>
            <td data-label="Origin">
              <a href=${href('incidents', {}, i.id)}>${originText(i.origin)}</a>
            </td>
            <td data-label="Services">
              ${
                listOf(i.services)
                  .map((s) => s.service)
                  .join(', ') || '–'
              }
            </td>
            <td data-label="Status">${statusText(i)}</td>
            <td data-label="Opened">${time(i.opened_at)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
