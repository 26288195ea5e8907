import { z } from 'zod';
import { SIGNALS, type Signal } from '../component/consumer.js';
import { parseId } from '../component/id.js';
import type { PipelineConfig, TelemetryConfig } from './config.js';
import { formatIssues, type IssueContext } from './issues.js';
import { hostPort } from './schema.js';
import { KIND_OF, type Section, type Sections } from './sections.js';
import { didYouMean } from './suggest.js';

/** `service`: its telemetry, its extensions and its pipelines, checked against the sections. */

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

/** Each part of `service` is checked on its own, so that one bad part does not hide the others. */
export function validateService(
  value: unknown,
  sections: Sections,
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

function validatePipelines(
  defs: Record<string, z.output<typeof pipelineSchema>>,
  sections: Sections,
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
    const check = (section: 'receivers' | 'processors' | 'exporters', ids: readonly string[]) => {
      const seen = new Set<string>();
      for (const ref of ids) {
        const kind = KIND_OF[section];
        if (seen.has(ref)) problems.push(`${path}.${section}: "${ref}" is listed twice`);
        seen.add(ref);
        // A connector is an exporter of some pipelines and a receiver of others.
        const connector = section === 'processors' ? undefined : sections.connectors.get(ref);
        const c = sections[section].get(ref) ?? connector;
        if (!c) {
          if (invalid.has(`${section}/${ref}`) || invalid.has(`connectors/${ref}`)) continue;
          const known = configuredIds(section, sections, invalid);
          if (section !== 'processors')
            known.push(...configuredIds('connectors', sections, invalid));
          problems.push(
            `${path}.${section}: references ${kind} "${ref}" which is not configured${didYouMean(ref, known)}`,
          );
          continue;
        }
        const f = c.factory;
        const signals =
          f.kind === 'connector'
            ? section === 'exporters'
              ? f.from
              : f.to
            : 'signals' in f
              ? f.signals
              : SIGNALS;
        if (!signals.includes(signal)) {
          const as = f.kind === 'connector' ? ` as ${KIND_OF[section]}` : '';
          problems.push(`${path}.${section}: ${f.kind} "${ref}" does not support ${signal}${as}`);
        }
      }
    };
    check('receivers', def.receivers);
    check('processors', def.processors);
    check('exporters', def.exporters);
    out.push({ id, signal, ...def });
  }
  checkConnectors(out, sections, problems);
  return out;
}

/**
 * Each connector is used both ways (as the Collector requires: one side alone is a mistake), no
 * id is both a connector and a receiver or exporter, and no pipeline feeds itself through
 * connectors (data would go round forever).
 */
function checkConnectors(
  pipelines: readonly PipelineConfig[],
  sections: Sections,
  problems: string[],
): void {
  for (const [id, c] of sections.connectors) {
    for (const section of ['receivers', 'exporters'] as const) {
      if (sections[section].has(id)) {
        problems.push(`connectors.${id}: ${section}.${id} has the same id; rename one of them`);
      }
    }
    const asExporter = pipelines.filter((p) => p.exporters.includes(id));
    const asReceiver = pipelines.filter((p) => p.receivers.includes(id));
    if (asExporter.length === 0 && asReceiver.length === 0) continue;
    const usage = c.factory.kind === 'connector' ? `; ${c.factory.usage}` : '';
    if (asReceiver.length === 0) {
      problems.push(
        `connectors.${id}: exports in ${asExporter.map((p) => p.id).join(', ')} but no pipeline lists it under "receivers"${usage}`,
      );
    } else if (asExporter.length === 0) {
      problems.push(
        `connectors.${id}: receives in ${asReceiver.map((p) => p.id).join(', ')} but no pipeline lists it under "exporters"${usage}`,
      );
    }
  }
  const cycle = pipelineCycle(pipelines, sections);
  if (cycle) {
    problems.push(
      `service.pipelines: ${cycle.join(' -> ')}: a pipeline would receive its own data again through connectors; break the cycle`,
    );
  }
}

/** A cycle of pipelines through connectors (`traces -> llm_summary -> traces/x -> ...`), if any. */
function pipelineCycle(
  pipelines: readonly PipelineConfig[],
  sections: Sections,
): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (p: PipelineConfig): string[] | undefined => {
    const s = state.get(p.id);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...path.slice(path.indexOf(p.id)), p.id];
    state.set(p.id, 'visiting');
    path.push(p.id);
    for (const c of p.exporters.filter((e) => sections.connectors.has(e))) {
      path.push(c);
      for (const next of pipelines.filter((q) => q.receivers.includes(c))) {
        const found = visit(next);
        if (found) return found;
      }
      path.pop();
    }
    path.pop();
    state.set(p.id, 'done');
    return undefined;
  };
  for (const p of pipelines) {
    const found = visit(p);
    if (found) return found;
  }
  return undefined;
}

/** Every id configured in a section, valid or not (for "did you mean"). */
function configuredIds(
  section: Section,
  sections: Sections,
  invalid: ReadonlySet<string>,
): string[] {
  const prefix = `${section}/`;
  return [
    ...sections[section].keys(),
    ...[...invalid].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
  ];
}
