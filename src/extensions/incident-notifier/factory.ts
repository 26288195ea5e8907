import type { ExtensionFactory } from '../../component/factory.js';
import { incidentNotifierSchema, type IncidentNotifierConfig } from './config.js';
import { IncidentNotifier } from './incident-notifier.js';

export const incidentNotifierFactory: ExtensionFactory<IncidentNotifierConfig> = {
  kind: 'extension',
  type: 'incident_notifier',
  configSchema: incidentNotifierSchema,
  create: (settings, config) => new IncidentNotifier(settings, config),
};
