import { z } from 'zod';
import type { Kind } from '../component/component.js';
import { SIGNALS, type Signal } from '../component/consumer.js';
import type { AnyFactory, Factories } from '../component/factory.js';
import { parseId } from '../component/id.js';
import { ConfigError } from '../component/errors.js';
import type { ComponentConfig, Config, PipelineConfig, TelemetryConfig } from './config.js';
import { deepFreeze } from './config.js';
import { checkAddresses } from './address-checks.js';
import { thisHost, type HostIdentity } from './addresses.js';
import type { EnvOrigins } from './env.js';
import { explainEnvProblems, shownFor } from './env-problems.js';
import { formatIssues, type IssueContext } from './issues.js';
import { hostPort } from './schema.js';
import { didYouMean } from './suggest.js';

const SECTIONS = ['receivers', 'processors', 'exporters', 'extensions'] as const;
type Section = (typeof SECTIONS)[number];
const KIND_OF: Record<Section, Kind> = {
  receivers: 'receiver',
  processors: 'processor',
  exporters: 'exporter',
  extensions: 'extension',
};

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
  return async (kind, type, raw) => {
    const map =
      kind === 'receiver'
        ? factories.receivers
        : kind === 'processor'
          ? factories.processors
          : kind === 'exporter'
            ? factories.exporters
            : factories.extensions;
    const factory = map.get(type);
    if (!factory) {
      const known = [...map.keys()].sort();
      return `unknown ${kind} type "${type}"${didYouMean(type, known)}; known types: ${known.join(', ') || '(none)'}`;
    }
    return { factory, raw };
  };
}

const telemetrySchema = z
  .strictObject({
    logs: z
      .strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
      .prefault({}),
    metrics: z
      .strictObject({
        level: z.enum(['none', 'basic', 'normal', 'detailed']).default('normal'),
        address: hostPort('0.0.0.0:8888'),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * Only `service.telemetry` of a parsed, env-substituted document, with its defaults (for
 * `hourglass healthcheck`, which needs the telemetry address and nothing else).
 */
export function telemetrySettings(doc: unknown): TelemetryConfig | string[] {
  const service = (doc as { service?: { telemetry?: unknown } } | null)?.service;
  const parsed = telemetrySchema.safeParse(service?.telemetry, { reportInput: true });
  return parsed.success
    ? parsed.data
    : formatIssues('service.telemetry', parsed.error, { schema: telemetrySchema });
}

const pipelineSchema = z
  .strictObject({
    receivers: z.array(z.string()).default([]),
    processors: z.array(z.string()).default([]),
    exporters: z.array(z.string()).default([]),
  })
  .superRefine((p, ctx) => {
    if (p.receivers.length === 0)
      ctx.addIssue({ code: 'custom', path: ['receivers'], message: 'list at least one receiver' });
    if (p.exporters.length === 0)
      ctx.addIssue({ code: 'custom', path: ['exporters'], message: 'list at least one exporter' });
  });

const SERVICE_KEYS = ['extensions', 'pipelines', 'telemetry'];

/**
 * Validates a whole config document (already parsed from YAML and env-substituted) and returns it
 * frozen. Every problem is collected and reported at once in one `ConfigError`, each with its path.
 */
export interface ValidateOptions {
  /** Variables referenced without a default and not set. */
  readonly unsetEnv?: readonly string[];
  /** Which values came from `${env:...}` (see `substituteEnv`). */
  readonly origins?: EnvOrigins;
  /** This host, for the self-loop check (tests inject one). */
  readonly identity?: HostIdentity;
}

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
    if (
      !(SECTIONS as readonly string[]).includes(key) &&
      key !== 'service' &&
      key !== 'connectors'
    ) {
      problems.push(
        `${key}: unknown section (expected receivers, processors, exporters, extensions or service)${didYouMean(key, [...SECTIONS, 'service'])}`,
      );
    }
  }
  if (top['connectors'] !== undefined) {
    problems.push('connectors: connectors are not supported by hourglass');
  }

  const sections = {} as Record<Section, Map<string, ComponentConfig>>;
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
  // These name addresses (host:port), never raw values, and their own variables.
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
    extensions: sections.extensions,
    service: deepFreeze({ extensions: serviceExtensions, pipelines, telemetry: telemetry! }),
    unsetEnv: Object.freeze([...(options.unsetEnv ?? [])]),
    env: origins,
  });
}

/** Each part of `service` is checked on its own, so that one bad part does not hide the others. */
function validateService(
  value: unknown,
  sections: Record<Section, Map<string, ComponentConfig>>,
  problems: string[],
  invalid: ReadonlySet<string>,
  shown: IssueContext['shown'],
): { pipelines: PipelineConfig[]; extensions: string[]; telemetry: TelemetryConfig | undefined } {
  const out = {
    pipelines: [] as PipelineConfig[],
    extensions: [] as string[],
    telemetry: undefined as TelemetryConfig | undefined,
  };
  if (value === undefined || value === null) {
    problems.push('service: missing; it needs at least one pipeline under "service.pipelines"');
    return out;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push('service: expected a mapping with pipelines, extensions and telemetry');
    return out;
  }
  const service = value as Record<string, unknown>;
  for (const key of Object.keys(service)) {
    if (!SERVICE_KEYS.includes(key)) {
      problems.push(`service.${key}: unknown setting${didYouMean(key, SERVICE_KEYS)}`);
    }
  }
  const telemetry = telemetrySchema.safeParse(service['telemetry'], { reportInput: true });
  if (telemetry.success) out.telemetry = telemetry.data;
  else {
    problems.push(
      ...formatIssues('service.telemetry', telemetry.error, { schema: telemetrySchema, shown }),
    );
  }

  const extensions = z
    .array(z.string())
    .default([])
    .safeParse(service['extensions'], { reportInput: true });
  if (extensions.success) {
    out.extensions = extensions.data;
    for (const ext of extensions.data) {
      if (!sections.extensions.has(ext) && !invalid.has(`extensions/${ext}`)) {
        problems.push(
          `service.extensions: references extension "${ext}" which is not configured${didYouMean(ext, configuredIds('extensions', sections, invalid))}`,
        );
      }
    }
  } else {
    problems.push(...formatIssues('service.extensions', extensions.error, { shown }));
  }

  const pipelines = service['pipelines'];
  if (
    pipelines === undefined ||
    pipelines === null ||
    typeof pipelines !== 'object' ||
    Array.isArray(pipelines)
  ) {
    problems.push(
      'service.pipelines: expected a mapping of pipelines, such as "traces: {receivers: [otlp], exporters: [otlp]}"',
    );
    return out;
  }
  const defs: Record<string, z.output<typeof pipelineSchema>> = {};
  for (const [id, def] of Object.entries(pipelines)) {
    const parsed = pipelineSchema.safeParse(def ?? {}, { reportInput: true });
    if (parsed.success) defs[id] = parsed.data;
    else {
      problems.push(
        ...formatIssues(`service.pipelines.${id}`, parsed.error, { schema: pipelineSchema, shown }),
      );
    }
  }
  out.pipelines = validatePipelines(defs, sections, problems, invalid);
  return out;
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

function validatePipelines(
  defs: Record<string, z.output<typeof pipelineSchema>>,
  sections: Record<Section, Map<string, ComponentConfig>>,
  problems: string[],
  invalid: ReadonlySet<string>,
): PipelineConfig[] {
  const out: PipelineConfig[] = [];
  if (Object.keys(defs).length === 0 && !problems.some((p) => p.startsWith('service.pipelines'))) {
    problems.push('service.pipelines: no pipeline is configured; add one such as "traces"');
  }
  for (const [id, def] of Object.entries(defs)) {
    const path = `service.pipelines.${id}`;
    const parsedId = parseId(id);
    if (typeof parsedId === 'string') {
      problems.push(`${path}: ${parsedId}`);
      continue;
    }
    if (!(SIGNALS as readonly string[]).includes(parsedId.type)) {
      problems.push(
        `${path}: unknown signal "${parsedId.type}"; pipelines are traces, metrics or logs (optionally "traces/name")${didYouMean(parsedId.type, SIGNALS)}`,
      );
      continue;
    }
    const signal = parsedId.type as Signal;
    const check = (section: Section, ids: readonly string[]) => {
      const seen = new Set<string>();
      for (const ref of ids) {
        const kind = KIND_OF[section];
        if (seen.has(ref)) problems.push(`${path}.${section}: "${ref}" is listed twice`);
        seen.add(ref);
        const c = sections[section].get(ref);
        if (!c) {
          if (invalid.has(`${section}/${ref}`)) continue;
          problems.push(
            `${path}.${section}: references ${kind} "${ref}" which is not configured${didYouMean(ref, configuredIds(section, sections, invalid))}`,
          );
          continue;
        }
        const signals = 'signals' in c.factory ? c.factory.signals : SIGNALS;
        if (!signals.includes(signal)) {
          problems.push(`${path}.${section}: ${kind} "${ref}" does not support ${signal}`);
        }
      }
    };
    check('receivers', def.receivers);
    check('processors', def.processors);
    check('exporters', def.exporters);
    out.push({ id, signal, ...def });
  }
  return out;
}

/** Every id configured in a section, valid or not (for "did you mean"). */
function configuredIds(
  section: Section,
  sections: Record<Section, Map<string, ComponentConfig>>,
  invalid: ReadonlySet<string>,
): string[] {
  const prefix = `${section}/`;
  return [
    ...sections[section].keys(),
    ...[...invalid].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
  ];
}
