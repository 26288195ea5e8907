import type { Kind } from '../component/component.js';
import { factoriesOfKind, type AnyFactory, type Factories } from '../component/factory.js';
import { parseId } from '../component/id.js';
import { ConfigError } from '../component/errors.js';
import type { ComponentConfig, Config } from './config.js';
import { deepFreeze } from './config.js';
import { checkAddresses } from './address-checks.js';
import { thisHost, type HostIdentity } from './addresses.js';
import type { EnvOrigins } from './env.js';
import { explainEnvProblems, shownFor } from './env-problems.js';
import { formatIssues, type IssueContext } from './issues.js';
import { KIND_OF, SECTIONS, type Section, type Sections } from './sections.js';
import { validateService } from './service-section.js';
import { didYouMean } from './suggest.js';

/**
 * Finds the factory for a component type. Usually a lookup in `factories`; exporters of type
 * `plugin` load theirs from the module named in their config, hence async.
 */
export type FactoryResolver = (
  kind: Kind,
  type: string,
  raw: Record<string, unknown>,
  path: string,
) => Promise<{ factory: AnyFactory; raw: Record<string, unknown> } | string>;

export function staticResolver(factories: Factories): FactoryResolver {
  return async (kind, type, raw, path) => {
    const map = factoriesOfKind(factories, kind);
    const factory = map.get(type);
    const connector = factories.connectors.get(type);
    if (!factory && connector && (kind === 'exporter' || kind === 'receiver')) {
      return `"${type}" is a connector, not ${kind === 'exporter' ? 'an exporter' : 'a receiver'}: move "${path}" under "connectors:" and ${connector.usage}`;
    }
    if (!factory) {
      const known = [...map.keys()].sort();
      const connectors = [...factories.connectors.keys()].sort();
      const also =
        kind === 'exporter' && connectors.length > 0
          ? `; connectors (under "connectors:"): ${connectors.join(', ')}`
          : '';
      return `unknown ${kind} type "${type}"${didYouMean(type, known)}; known types: ${known.join(', ') || '(none)'}${also}`;
    }
    return { factory, raw };
  };
}

export interface ValidateOptions {
  /** Variables referenced without a default and not set. */
  readonly unsetEnv?: readonly string[];
  /** Which values came from `${env:...}` (see `substituteEnv`). */
  readonly origins?: EnvOrigins;
  /** This host, for the self-loop check (tests inject one). */
  readonly identity?: HostIdentity;
}

/**
 * Validates a whole config document (already parsed from YAML and env-substituted) and returns it
 * frozen. Every problem is collected and reported at once in one `ConfigError`, each with its path.
 */
export async function validateConfig(
  doc: unknown,
  resolve: FactoryResolver,
  source: string,
  options: ValidateOptions = {},
): Promise<Config> {
  const origins: EnvOrigins = options.origins ?? new Map();
  const shown = shownFor(origins);
  const problems: string[] = [];
  if (doc === null || doc === undefined) {
    throw new ConfigError([`${source}: the file is empty; it needs at least "service.pipelines"`]);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError([
      `<root>: expected a mapping of receivers, processors, exporters, extensions and service`,
    ]);
  }
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!(SECTIONS as readonly string[]).includes(key) && key !== 'service') {
      problems.push(
        `${key}: unknown section (expected receivers, processors, exporters, connectors, extensions or service)${didYouMean(key, [...SECTIONS, 'service'])}`,
      );
    }
  }

  const sections = {} as Sections;
  const invalid = new Set<string>();
  for (const section of SECTIONS) {
    sections[section] = await validateSection(
      section,
      top[section],
      resolve,
      problems,
      invalid,
      shown,
    );
  }

  const {
    pipelines,
    extensions: serviceExtensions,
    telemetry,
  } = validateService(top['service'], sections, problems, invalid, shown);

  const explained = explainEnvProblems(problems, origins);
  // These name addresses (host:port) and their own variables; an address a set variable gave is
  // shown as written in the file (`shownFor`), never its value.
  explained.push(
    ...(await checkAddresses(
      { ...sections, pipelines, serviceExtensions, telemetry },
      origins,
      options.identity ?? thisHost(),
    )),
  );
  if (explained.length > 0) throw new ConfigError(explained);
  return Object.freeze({
    source,
    receivers: sections.receivers,
    processors: sections.processors,
    exporters: sections.exporters,
    connectors: sections.connectors,
    extensions: sections.extensions,
    service: deepFreeze({ extensions: serviceExtensions, pipelines, telemetry: telemetry! }),
    unsetEnv: Object.freeze([...(options.unsetEnv ?? [])]),
    env: origins,
  });
}

async function validateSection(
  section: Section,
  value: unknown,
  resolve: FactoryResolver,
  problems: string[],
  invalid: Set<string>,
  shown: IssueContext['shown'],
): Promise<Map<string, ComponentConfig>> {
  const out = new Map<string, ComponentConfig>();
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${section}: expected a mapping of component ids to settings`);
    return out;
  }
  const kind = KIND_OF[section];
  for (const [id, rawValue] of Object.entries(value as Record<string, unknown>)) {
    const path = `${section}.${id}`;
    // Until proven valid: references to it are then not reported a second time.
    invalid.add(`${section}/${id}`);
    const parsedId = parseId(id);
    if (typeof parsedId === 'string') {
      problems.push(`${path}: ${parsedId}`);
      continue;
    }
    // `otlp:` with nothing after it means "all defaults", as in the Collector.
    const raw = rawValue ?? {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(
        `${path}: expected a mapping of settings, got ${Array.isArray(raw) ? 'a list' : typeof raw}`,
      );
      continue;
    }
    const resolved = await resolve(kind, parsedId.type, raw as Record<string, unknown>, path);
    if (typeof resolved === 'string') {
      problems.push(`${path}: ${resolved}`);
      continue;
    }
    const parsed = resolved.factory.configSchema.safeParse(resolved.raw, { reportInput: true });
    if (!parsed.success) {
      problems.push(
        ...formatIssues(path, parsed.error, { schema: resolved.factory.configSchema, shown }),
      );
      continue;
    }
    invalid.delete(`${section}/${id}`);
    out.set(
      id,
      Object.freeze({
        kind,
        id,
        type: parsedId.type,
        factory: resolved.factory,
        config: deepFreeze(parsed.data),
      }),
    );
  }
  return out;
}
