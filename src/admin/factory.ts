import type { ExtensionFactory } from '../component/factory.js';
import { AdminExtension } from './admin-extension.js';
import { adminExtensionSchema, type AdminExtensionConfig } from './config.js';

export const adminExtensionFactory: ExtensionFactory<AdminExtensionConfig> = {
  kind: 'extension',
  type: 'admin',
  configSchema: adminExtensionSchema,
  listeners: (config) => [{ setting: 'endpoint', address: config.endpoint }],
  create: (settings, config) => new AdminExtension(settings, config),
};
