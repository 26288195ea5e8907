import type { Counts, Key } from '../api-types.js';
import { count } from '../format.js';
import { html } from '../html.js';
import { HEALTH, INCIDENTS, type Health, type Incident } from '../incident-model.js';
import { href } from '../router.js';
import { SEVERITIES, SeverityBadge } from '../severity.js';
import { useApi, type Loaded } from '../use-api.js';
import { HealthBadge } from './health-badge.js';
import { IncidentTable } from './incident-table.js';
import { Empty, IncidentsNotEnabled, whenLoaded } from './notice.js';
import { Sparkline } from './sparkline.js';

/** "learning: 3 of 5 operations have a baseline", or "5 of 5 ..." once all have one. */
export function learningText(withBaseline: number, all: number): string {
  const text = `${withBaseline} of ${all} operation${all === 1 ? ' has' : 's have'} a baseline`;
  return withBaseline < all ? `learning: ${text}` : text;
}

const REFRESH_MS = 30_000;
const COUNTS = '/api/v1/anomalies/counts?since=6h&step=10m';
const HEALTH_ORDER: Readonly<Record<string, number>> = { critical: 0, degraded: 1, ok: 2 };

interface Tile {
  service: string;
  operations: number;
  withBaseline: number;
  total: number;
  bySeverity: Record<string, number>;
  counts: number[];
  health: Health | undefined;
}

/** One tile per service: keys, tagged spans of the last 6 hours, health when incidents exist. */
function tiles(
  keys: readonly Key[],
  counts: Counts | undefined,
  health: readonly Health[],
): Tile[] {
  const byService = new Map<string, Tile>();
  const tile = (service: string) => {
    let t = byService.get(service);
    if (!t) {
      t = {
        service,
        operations: 0,
        withBaseline: 0,
        total: 0,
        bySeverity: {},
        counts: new Array<number>(counts?.services[0]?.counts.length ?? 0).fill(0),
        health: health.find((h) => h.service === service),
      };
      byService.set(service, t);
    }
    return t;
  };
  for (const k of keys) {
    const t = tile(k.service);
    t.operations++;
    if (k.has_baseline) t.withBaseline++;
  }
  for (const s of counts?.services ?? []) {
    const t = tile(s.service);
    t.total += s.total;
    for (const [sev, n] of Object.entries(s.by_severity))
      t.bySeverity[sev] = (t.bySeverity[sev] ?? 0) + n;
    s.counts.forEach((n, i) => (t.counts[i] = (t.counts[i] ?? 0) + n));
  }
  for (const h of health) tile(h.service);
  const rank = (t: Tile) => HEALTH_ORDER[t.health?.status ?? 'ok'] ?? 3;
  return [...byService.values()].sort(
    (a, b) => rank(a) - rank(b) || b.total - a.total || a.service.localeCompare(b.service),
  );
}

function ServiceTile({
  t,
  counts,
  healthShown,
}: {
  t: Tile;
  counts: Counts | undefined;
  healthShown: boolean;
}) {
  return html`<li class="tile" data-service=${t.service}>
    <div class="tile-head">
      <h3><a href=${href('live', { service: t.service })}>${t.service}</a></h3>
      ${healthShown ? html`<${HealthBadge} status=${t.health?.status ?? 'ok'} />` : null}
    </div>
    <p class="tile-total">
      <strong>${count(t.total)}</strong> tagged span${t.total === 1 ? '' : 's'} in the last 6 h
    </p>
    <p class="tile-sevs">
      ${SEVERITIES.filter((s) => (t.bySeverity[s] ?? 0) > 0).map(
        (s) =>
          html`<span class="sev-count"
            ><${SeverityBadge} severity=${s} short /> ${count(t.bySeverity[s]!)}</span
          >`,
      )}
    </p>
    ${
      counts
        ? html`<${Sparkline}
            counts=${t.counts}
            stepMs=${counts.step_ms}
            until=${counts.until}
            label=${`${t.service}: tagged spans per 10 minutes over the last 6 hours, ${t.total} in all`}
          />`
        : null
    }
    <p class="tile-foot">
      ${`${t.operations} operation${t.operations === 1 ? '' : 's'}, ${t.withBaseline} with a baseline · `}
      <a href=${href('baselines', { service: t.service })}>baselines</a>
    </p>
  </li>`;
}

function OpenIncidents({ loaded }: { loaded: Loaded<{ incidents: Incident[] }> }) {
  if (loaded.state === 'error' && loaded.status === 404) return html`<${IncidentsNotEnabled} />`;
  return whenLoaded(loaded, 'open incidents', ({ incidents }) =>
    incidents.length === 0
      ? html`<p class="notice ok" role="status">No open incidents.</p>`
      : html`<${IncidentTable} incidents=${incidents} />`,
  );
}

export function Overview() {
  const keys = useApi<{ keys: Key[] }>('/api/v1/baselines', REFRESH_MS);
  const counts = useApi<Counts>(COUNTS, REFRESH_MS);
  const health = useApi<{ services: Health[] }>(HEALTH, REFRESH_MS);
  const incidents = useApi<{ incidents: Incident[] }>(`${INCIDENTS}?status=open`, REFRESH_MS);
  const healthShown = health.state === 'ok';
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Overview</h1>
    <h2>Open incidents</h2>
    <${OpenIncidents} loaded=${incidents} />
    <h2>Services</h2>
    ${whenLoaded(keys, 'services', ({ keys: list }) => {
      const withBaseline = list.filter((k) => k.has_baseline).length;
      const c = counts.state === 'ok' ? counts.data : undefined;
      const all = tiles(list, c, healthShown ? health.data.services : []);
      if (all.length === 0) {
        return html`<${Empty}>
          <p><strong>Nothing yet.</strong> No span has reached an anomaly processor.</p>
          <p>
            Point your services' <code>OTEL_EXPORTER_OTLP_ENDPOINT</code> at this sidecar (OTLP on
            ports 4317 and 4318): one tile per service appears with its first spans, and tagging
            starts once an operation has a baseline.
          </p>
        <//>`;
      }
      return html`<p class="learning" role="status">${learningText(withBaseline, list.length)}</p>
        ${
          counts.state === 'error'
            ? html`<p class="notice error" role="alert">Tagged-span counts: ${counts.message}</p>`
            : null
        }
        <ul class="tiles">
          ${all.map((t) => html`<${ServiceTile} key=${t.service} t=${t} counts=${c} healthShown=${healthShown} />`)}
        </ul>`;
    })}
  </section>`;
}
