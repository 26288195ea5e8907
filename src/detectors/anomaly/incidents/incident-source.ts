import type { Logger } from 'pino';
import type { IncidentEngine, IncidentListener, OpenRequest } from './engine.js';
import type { FleetIncidents } from './fleet-incidents.js';
import type { IncidentView } from './incident.js';
import type { IncidentQuery, IncidentStore } from './incident-store.js';

/**
 * The incidents of one `anomaly` processor as other components see them (the admin API, the
 * notifier, detectors that open incidents without a span): offered as the `anomaly.incidents`
 * capability (contract.ts).
 */
export interface IncidentSource {
  /** Incidents matching `q`, newest first (the open ones and the stored ones). */
  list(q: IncidentQuery): IncidentView[];
  get(id: string): IncidentView | undefined;
  openIncidents(): IncidentView[];
  /** Every service with a baseline (the health view lists them, ok or not). */
  services(): string[];
  subscribe(listener: IncidentListener): () => void;
  /** Opens an incident without a span (or joins the open one of that operation or service). */
  openIncident(req: OpenRequest): string | undefined;
}

/**
 * Reads fall back to what is in memory while the database cannot be read (logged once). With a
 * fleet's database (`fleet`), reads and events are the fleet's incidents (fleet-incidents.ts).
 */
export function incidentSource(
  engine: IncidentEngine,
  store: () => IncidentStore | undefined,
  services: () => string[],
  now: () => number,
  logger: Logger,
  fleet?: FleetIncidents,
): IncidentSource {
  if (fleet) {
    return {
      list: (q) => (fleet.shared ? fleet.list(q, now()) : engine.list(q, undefined)),
      get: (id) => (fleet.shared ? fleet.get(id, now()) : engine.get(id, undefined)),
      openIncidents: () => (fleet.shared ? fleet.openIncidents(now()) : engine.openIncidents()),
      services,
      subscribe: (l) => fleet.subscribe(l),
      openIncident: (req) => engine.openIncident(req, now()),
    };
  }
  let warned = false;
  const read = <T>(f: (s: IncidentStore | undefined) => T): T => {
    try {
      return f(store());
    } catch (err) {
      if (!warned) {
        warned = true;
        logger.warn({ err }, 'cannot read the stored incidents; serving those in memory');
      }
      return f(undefined);
    }
  };
  return {
    list: (q) => read((s) => engine.list(q, s)),
    get: (id) => read((s) => engine.get(id, s)),
    openIncidents: () => engine.openIncidents(),
    services,
    subscribe: (l) => engine.subscribe(l),
    openIncident: (req) => engine.openIncident(req, now()),
  };
}
