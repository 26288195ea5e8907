import type { ExtensionFactory } from '../../component/factory.js';
import { BearerTokenAuth } from './bearer-token-auth.js';
import { bearerTokenAuthSchema, type BearerTokenAuthConfig } from './config.js';

export const bearerTokenAuthFactory: ExtensionFactory<BearerTokenAuthConfig> = {
  kind: 'extension',
  type: 'bearertokenauth',
  configSchema: bearerTokenAuthSchema,
  create: (settings, config) => new BearerTokenAuth(settings, config),
};
