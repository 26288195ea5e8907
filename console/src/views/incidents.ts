import { useEffect, useState } from 'preact/hooks';
import { query } from '../api.js';
import type { Key } from '../api-types.js';
import { openEventStream } from '../event-stream.js';
import { html } from '../html.js';
import { INCIDENT_STREAM, INCIDENTS, type Incident } from '../incident-model.js';
import { replaceParams, type Place } from '../router.js';
import { SeverityChoice } from '../severity.js';
import { Choice } from './choice.js';
import { useApi } from '../use-api.js';
import { IncidentTable } from './incident-table.js';
import { Empty, IncidentsNotEnabled, whenLoaded } from './notice.js';

/**
 * Re-reads the list when the incident stream says something changed (when there is one), when it
 * says it could not send what was missed (`event: reset`), and after it reconnects.
 */
function useIncidentChanges(): number {
  const [changes, setChanges] = useState(0);
  useEffect(() => {
    const bump = () => setChanges((n) => n + 1);
    return openEventStream(INCIDENT_STREAM, bump, () => undefined, bump);
  }, []);
  return changes;
}

/** The incidents, filtered by status, service and severity (the filters live in the URL). */
export function Incidents({ place }: { place: Place }) {
  const status = place.params.get('status') ?? 'open';
  const service = place.params.get('service') ?? '';
  const severity = place.params.get('min_severity') ?? '';
  const set = (k: string, v: string) =>
    replaceParams(place, { status, service, min_severity: severity, [k]: v });
  const changes = useIncidentChanges();
  const path = `${INCIDENTS}${query({
    status: status === 'all' ? undefined : status,
    service,
    min_severity: severity,
    _: changes || undefined,
  })}`;
  const list = useApi<{ incidents: Incident[] }>(path, 30_000);
  const keys = useApi<{ keys: Key[] }>('/api/v1/baselines');
  const services =
    keys.state === 'ok' ? [...new Set(keys.data.keys.map((k) => k.service))].sort() : [];
  if (list.state === 'error' && list.status === 404) {
    return html`<section aria-labelledby="page-title">
      <h1 id="page-title">Incidents</h1>
      <${IncidentsNotEnabled} />
    </section>`;
  }
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Incidents</h1>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <${Choice}
        id="incident-status"
        label="Status"
        value=${status}
        options=${['open', 'resolved', 'all']}
        onChange=${(v: string) => set('status', v)}
      />
      <${Choice}
        id="incident-service"
        label="Service"
        value=${service}
        all="all services"
        options=${services}
        onChange=${(v: string) => set('service', v)}
      />
      <${SeverityChoice}
        id="incident-severity"
        value=${severity}
        onChange=${(v: string) => set('min_severity', v)}
      />
    </form>
    ${whenLoaded(list, 'incidents', ({ incidents }) =>
      incidents.length === 0
        ? html`<${Empty}
            ><p>No ${status === 'all' ? '' : `${status} `}incidents match these filters.</p><//
          >`
        : html`<${IncidentTable} incidents=${incidents} />`,
    )}
  </section>`;
}
