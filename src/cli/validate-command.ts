import { dirname, resolve } from 'node:path';
import { ConfigError } from '../component/errors.js';
import { builtinFactories } from '../components.js';
import { destinations } from '../config/destinations.js';
import { loadConfigFile } from '../config/load.js';
import { pluginResolver, unloadedModule } from '../config/plugins.js';
import { configOption } from './command.js';
import { printProblems } from './problems.js';

const VALIDATE_USAGE = `usage: hourglass validate [--config FILE] [--load-plugins]

Checks a config file as "hourglass run" would, and prints every problem with its path (exit 1 if
any): settings, pipelines, environment variables that are not set, exporters that would send to
this process itself, servers sharing an address. On success it says where each exporter sends.

options:
  --config FILE     the config (default as for "run")
  --load-plugins    also load plugin exporters' modules to check their settings. Loading a module
                    runs its code: without this flag a plugin module is only looked for.`;

export async function validateCommand(args: string[]): Promise<number> {
  const { config: path, flags } = configOption('validate', args, {
    'load-plugins': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  });
  if (flags['help']) {
    process.stdout.write(`${VALIDATE_USAGE}\n`);
    return 0;
  }
  const resolver = pluginResolver(builtinFactories(), dirname(resolve(path)), undefined, {
    execute: flags['load-plugins'],
  });
  try {
    const config = await loadConfigFile(path, resolver);
    const n = (m: ReadonlyMap<string, unknown>) => m.size;
    const lines = [
      `${path}: valid (${n(config.receivers)} receivers, ${n(config.processors)} processors, ` +
        `${n(config.exporters)} exporters, ` +
        (config.connectors.size > 0 ? `${n(config.connectors)} connectors, ` : '') +
        `${n(config.extensions)} extensions; pipelines: ` +
        `${config.service.pipelines.map((p) => p.id).join(', ')})`,
    ];
    for (const d of destinations(config)) {
      lines.push(`  ${d.exporter} sends ${d.signals.join(', ')} to ${d.address} ${d.source}`);
    }
    for (const [id, c] of [...config.exporters, ...config.connectors]) {
      const module = unloadedModule(c.factory);
      if (module !== undefined) {
        lines.push(
          `note: ${c.kind}s.${id}: module "${module}" found but not loaded, so its settings were not checked; --load-plugins loads it (running its code)`,
        );
      }
    }
    if (config.unsetEnv.length > 0) {
      lines.push(
        `warning: environment variables not set (expanded to ""): ${config.unsetEnv.join(', ')}`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      printProblems(path, err.problems);
      return 1;
    }
    throw err;
  }
}
