import { html } from './html.js';
import { href, usePlace } from './router.js';
import { Baselines } from './views/baselines.js';
import { IncidentPage } from './views/incident.js';
import { Incidents } from './views/incidents.js';
import { Live } from './views/live.js';
import { Overview } from './views/overview.js';
import { TokenForm } from './views/token-form.js';

const PAGES = [
  ['overview', 'Overview'],
  ['incidents', 'Incidents'],
  ['live', 'Live'],
  ['baselines', 'Baselines'],
] as const;

/** The shell: a skip link, the header with navigation and the token field, and the page. */
export function App() {
  const place = usePlace();
  const page = PAGES.some(([p]) => p === place.page) ? place.page : 'unknown';
  let content;
  if (page === 'overview') content = html`<${Overview} />`;
  else if (page === 'incidents' && place.rest[0])
    content = html`<${IncidentPage} id=${place.rest[0]} />`;
  else if (page === 'incidents') content = html`<${Incidents} place=${place} />`;
  else if (page === 'live') content = html`<${Live} place=${place} />`;
  else if (page === 'baselines') content = html`<${Baselines} place=${place} />`;
  else
    content = html`<p class="notice error" role="alert">
      No page "${place.page}" here. <a href=${href('overview')}>Overview</a>
    </p>`;
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href=${href('overview')} aria-label="hourglass console, overview"
        ><img src="/console/favicon.svg" alt="" width="20" height="20" /> hourglass</a
      >
      <nav aria-label="Pages">
        <ul>
          ${PAGES.map(
            ([p, label]) =>
              html`<li>
                <a href=${href(p)} aria-current=${p === page ? 'page' : undefined}>${label}</a>
              </li>`,
          )}
        </ul>
      </nav>
      <div class="auth"><${TokenForm} /></div>
    </header>
    <main id="main" tabindex="-1">${content}</main>`;
}
