import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The config shipped with hourglass, used when no --config is given and ./otel-config.yaml is absent. */
const EMBEDDED_CONFIG = fileURLToPath(new URL('../../otel-config.yaml', import.meta.url));

/** `--config`, else `$HOURGLASS_CONFIG`, else ./otel-config.yaml, else the embedded default. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env['HOURGLASS_CONFIG']) return env['HOURGLASS_CONFIG'];
  return existsSync('otel-config.yaml') ? 'otel-config.yaml' : EMBEDDED_CONFIG;
}
