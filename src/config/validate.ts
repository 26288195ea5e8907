import { z } from 'zod';
import type { Kind } from '../component/component.js';
import { SIGNALS, type Signal } from '../component/consumer.js';
import type { AnyFactory, Factories } from '../component/factory.js';
import { parseId } from '../component/id.js';
import { ConfigError } from '../component/errors.js';
import type { ComponentConfig, Config, PipelineConfig, TelemetryConfig } from './config.js';
import { deepFreeze } from './config.js';
import { formatIssues } from './issues.js';
import { hostPort } from './schema.js';

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
      return `unknown ${kind} type "${type}"; known types: ${known.join(', ') || '(none)'}`;
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

const pipelineSchema = z.strictObject({
  receivers: z.array(z.string()).min(1),
  processors: z.array(z.string()).default([]),
  exporters: z.array(z.string()).min(1),
});

const serviceSchema = z.strictObject({
  extensions: z.array(z.string()).default([]),
  pipelines: z.record(z.string(), pipelineSchema),
  telemetry: telemetrySchema,
});

/**
 * Validates a whole config document (already parsed from YAML and env-substituted) and returns it
 * frozen. Every problem is collected and reported at once in one `ConfigError`, each with its path.
 */
export async function validateConfig(
  doc: unknown,
  resolve: FactoryResolver,
  source: string,
  unsetEnv: readonly string[] = [],
): Promise<Config> {
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
        `${key}: unknown section (expected receivers, processors, exporters, extensions or service)`,
      );
    }
  }
  if (top['connectors'] !== undefined) {
    problems.push('connectors: connectors are not supported by hourglass');
  }

  const sections = {} as Record<Section, Map<string, ComponentConfig>>;
  for (const section of SECTIONS) {
    sections[section] = await validateSection(section, top[section], resolve, problems);
  }

  let pipelines: PipelineConfig[] = [];
  let serviceExtensions: string[] = [];
  let telemetry: TelemetryConfig | undefined;
  const service = serviceSchema.safeParse(top['service'] ?? undefined, { reportInput: true });
  if (top['service'] === undefined) {
    problems.push('service: missing; it needs at least one pipeline under "service.pipelines"');
  } else if (!service.success) {
    problems.push(...formatIssues('service', service.error));
  } else {
    telemetry = service.data.telemetry;
    serviceExtensions = service.data.extensions;
    for (const ext of serviceExtensions) {
      if (!sections.extensions.has(ext)) {
        problems.push(`service.extensions: references extension "${ext}" which is not configured`);
      }
    }
    pipelines = validatePipelines(service.data.pipelines, sections, problems);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze({
    source,
    receivers: sections.receivers,
    processors: sections.processors,
    exporters: sections.exporters,
    extensions: sections.extensions,
    service: { extensions: serviceExtensions, pipelines, telemetry: telemetry! },
    unsetEnv,
  });
}

async function validateSection(
  section: Section,
  value: unknown,
  resolve: FactoryResolver,
  problems: string[],
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
    // reportInput: messages quote the wrong value (`"zstd" is not one of ...`).
    const parsed = resolved.factory.configSchema.safeParse(resolved.raw, { reportInput: true });
    if (!parsed.success) {
      problems.push(...formatIssues(path, parsed.error));
      continue;
    }
    out.set(id, { kind, id, type: parsedId.type, factory: resolved.factory, config: parsed.data });
  }
  return out;
}

function validatePipelines(
  defs: Record<string, z.output<typeof pipelineSchema>>,
  sections: Record<Section, Map<string, ComponentConfig>>,
  problems: string[],
): PipelineConfig[] {
  const out: PipelineConfig[] = [];
  if (Object.keys(defs).length === 0) {
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
        `${path}: unknown signal "${parsedId.type}"; pipelines are traces, metrics or logs (optionally "traces/name")`,
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
          problems.push(`${path}.${section}: references ${kind} "${ref}" which is not configured`);
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
