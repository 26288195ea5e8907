import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { SIGNALS } from '../component/consumer.js';
import { errorMessage } from '../component/errors.js';
import type { Kind } from '../component/component.js';
import type { ConnectorFactory, ExporterFactory, Factories } from '../component/factory.js';
import { staticResolver, type FactoryResolver } from './validate.js';

/**
 * The component type of exporters and connectors loaded from a module:
 * `exporters: { plugin/<name>: ... }`, `connectors: { plugin/<name>: ... }`.
 */
const PLUGIN_TYPE = 'plugin';

/** Imports a module by URL or package name (injected so tests can count the loads). */
export type ModuleLoader = (specifier: string) => Promise<Record<string, unknown>>;

const importModule: ModuleLoader = (specifier) =>
  import(specifier) as Promise<Record<string, unknown>>;

/** A factory a plugin module may export. */
type PluginFactory = ExporterFactory | ConnectorFactory;
type PluginKind = PluginFactory['kind'];

/**
 * The resolver `hourglass run` and `hourglass validate` use: built-in types from `factories`, and
 * exporters and connectors of type `plugin` from the module named in their `module` setting. The other settings
 * of a plugin exporter are its own, validated by the plugin's `configSchema`:
 *
 * ```yaml
 * exporters:
 *   plugin/batch-log:
 *     module: ./plugins/batch-log.js   # relative to the config file, absolute, or a package name
 *     path: /var/log/batches.jsonl     # the plugin's own settings
 * ```
 *
 * A module exports its factory as `default` (or as `factory`): an object of the same shape as the
 * built-in factories (`{ kind: 'exporter', type, signals, configSchema, create }`, or for a
 * connector `{ kind: 'connector', type, from, to, usage, configSchema, create }`), or a function
 * returning one, called once per build (for factories that keep per-build state). Each module is
 * loaded once per resolver, so two ids naming the same module share its factory.
 */
export function pluginResolver(
  factories: Factories,
  baseDir: string,
  load: ModuleLoader = importModule,
  options: { execute?: boolean } = {},
): FactoryResolver {
  const builtin = staticResolver(factories);
  const loaded = new Map<string, Promise<PluginFactory | string>>();
  return async (kind, type, raw, path) => {
    if (!isPluginKind(kind) || type !== PLUGIN_TYPE) return builtin(kind, type, raw, path);
    const { module, ...settings } = raw;
    if (typeof module !== 'string' || module.trim() === '') {
      return `"module" must name the module that exports the ${kind} factory (a path relative to the config file, an absolute path or a package name), got ${module === undefined ? 'nothing' : JSON.stringify(module)}`;
    }
    const specifier = resolveSpecifier(module, baseDir);
    if (options.execute === false) {
      const missing = moduleMissing(module, specifier);
      return missing ?? { factory: unloadedPlugin(module, kind), raw: settings };
    }
    let factory = loaded.get(specifier);
    if (!factory) {
      factory = loadFactory(module, specifier, load);
      loaded.set(specifier, factory);
    }
    const result = await factory;
    if (typeof result === 'string') return result;
    if (result.kind !== kind) {
      return `module "${module}" exports ${article(result.kind)} factory; configure it under "${result.kind}s:", not "${kind}s:"`;
    }
    return { factory: result, raw: settings };
  };
}

/** A file URL for paths; a package name resolved from the config's directory when possible. */
function resolveSpecifier(module: string, baseDir: string): string {
  if (module.startsWith('.') || isAbsolute(module)) {
    return pathToFileURL(resolve(baseDir, module)).href;
  }
  try {
    return pathToFileURL(createRequire(join(baseDir, 'package.json')).resolve(module)).href;
  } catch {
    // Not installed next to the config (or ESM-only without a require entry): let import() find it.
    return module;
  }
}

function isPluginKind(kind: Kind): kind is PluginKind {
  return kind === 'exporter' || kind === 'connector';
}

const article = (kind: PluginKind) => (kind === 'exporter' ? 'an exporter' : 'a connector');

async function loadFactory(
  module: string,
  specifier: string,
  load: ModuleLoader,
): Promise<PluginFactory | string> {
  let exports: Record<string, unknown>;
  try {
    exports = await load(specifier);
  } catch (err) {
    const where = specifier === module ? '' : ` (${specifier})`;
    return `cannot load module "${module}"${where}: ${errorMessage(err)}`;
  }
  let candidate = exports['default'] ?? exports['factory'];
  if (typeof candidate === 'function') {
    try {
      candidate = (candidate as () => unknown)();
    } catch (err) {
      return `module "${module}": its exported factory function threw: ${errorMessage(err)}`;
    }
  }
  const problem = factoryProblem(candidate);
  if (problem !== undefined) {
    return `module "${module}" does not export an exporter factory (${problem}); export default { kind: 'exporter', type, signals, configSchema, create }`;
  }
  return candidate as PluginFactory;
}

/**
 * What is wrong with a value meant to be an exporter (or connector) factory, or undefined when it
 * is one.
 */
function factoryProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') {
    return value === undefined ? 'no "default" or "factory" export' : `got ${typeof value}`;
  }
  const f = value as Record<string, unknown>;
  if (f['kind'] !== 'exporter' && f['kind'] !== 'connector') {
    return `kind is ${JSON.stringify(f['kind'])}, not "exporter"`;
  }
  if (typeof f['type'] !== 'string' || f['type'] === '') return 'type is not a non-empty string';
  const lists = f['kind'] === 'exporter' ? ['signals'] : ['from', 'to'];
  for (const key of lists) {
    const signals = f[key];
    if (
      !Array.isArray(signals) ||
      signals.length === 0 ||
      !signals.every((s) => (SIGNALS as readonly unknown[]).includes(s))
    ) {
      return `${key} must list some of traces, metrics, logs`;
    }
  }
  if (f['kind'] === 'connector' && typeof f['usage'] !== 'string') return 'usage is not a string';
  const schema = f['configSchema'] as { safeParse?: unknown } | undefined;
  if (typeof schema?.safeParse !== 'function') return 'configSchema is not a zod schema';
  if (typeof f['create'] !== 'function') return 'create is not a function';
  return undefined;
}

const UNLOADED = Symbol('hourglass.unloadedPlugin');

/**
 * What `hourglass validate` (without `--load-plugins`) uses for a plugin exporter: the module was
 * found but not run, so its settings are not checked. Importing a module runs its code: a config
 * naming plugin modules is code, and checking a config should not run it unasked.
 */
function unloadedPlugin(module: string, kind: PluginKind): PluginFactory & { [UNLOADED]: string } {
  const common = {
    type: PLUGIN_TYPE,
    configSchema: z.record(z.string(), z.unknown()),
    create: (): never => {
      throw new Error(`plugin module "${module}" was not loaded`);
    },
    [UNLOADED]: module,
  };
  return kind === 'exporter'
    ? { kind, signals: SIGNALS, ...common }
    : { kind, from: SIGNALS, to: SIGNALS, usage: `see the plugin's documentation`, ...common };
}

/** The module of a plugin exporter that was found but not loaded, or undefined. */
export function unloadedModule(factory: unknown): string | undefined {
  return (factory as { [UNLOADED]?: string } | null)?.[UNLOADED];
}

/**
 * Why a module file cannot be found, without running it; undefined when it exists. (A package
 * that cannot be resolved without importing it, ESM-only, is left to the load.)
 */
function moduleMissing(module: string, specifier: string): string | undefined {
  if (!specifier.startsWith('file:') || existsSync(fileURLToPath(specifier))) return undefined;
  return `cannot load module "${module}" (${specifier}): no such file`;
}
