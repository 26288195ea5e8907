import type Database from 'better-sqlite3';
import type { Clock } from '../component/clock.js';
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { createLogger } from '../telemetry/logger.js';
import { ConfigError } from '../component/errors.js';
import { parseId } from '../component/id.js';
import { substituteEnv } from '../config/env.js';
import { explainEnvProblems, shownFor } from '../config/env-problems.js';
import { formatIssues } from '../config/issues.js';
import { parseYamlText } from '../config/load.js';
import {
  anomalyProcessorSchema,
  type AnomalyProcessorConfig,
} from '../detectors/anomaly/config.js';
import {
  assertSqliteFileExists,
  assertSqliteStorage,
  openStore,
  recalculateStore,
  type BaselineStore,
  type RecalcReport,
} from '../detectors/anomaly/offline.js';

/** The anomaly processor a CLI command works on, and its open database. */
export interface Target {
  readonly id: string;
  readonly config: AnomalyProcessorConfig;
  readonly db: Database.Database;
  readonly store: BaselineStore;
}

/**
 * Reads the anomaly processor settings from the sidecar's config (`--processor` picks one when
 * there are several) and opens its SQLite file (`existing`: only a file that is there). Only the anomaly processors' sections are
 * validated: the operational commands do not need the exporters' plugins or certificates. The
 * running sidecar may have the file open too: WAL lets both work, and the sidecar notices what
 * the command changed at its next flush.
 */
export async function openTarget(
  configPath: string,
  processor: string | undefined,
  clock: Clock,
  options: { existing?: boolean } = {},
): Promise<Target> {
  const { id, config } = await chooseProcessor(configPath, processor);
  assertSqliteStorage(id, config);
  if (options.existing) assertSqliteFileExists(id, config);
  // Warnings on stderr, written before the command exits (a corrupted file moved aside).
  const logger = createLogger('warn', pino.destination({ fd: 2, sync: true }));
  return { id, config, ...openStore(config, clock.now(), logger) };
}

/** The settings of the anomaly processor a command works on (`--processor` picks one of several). */
export async function chooseProcessor(
  configPath: string,
  processor: string | undefined,
): Promise<{ id: string; config: AnomalyProcessorConfig }> {
  const found = await anomalyProcessors(configPath);
  const chosen = processor === undefined ? found : found.filter((p) => p.id === processor);
  if (chosen.length !== 1) {
    const ids = found.map((p) => p.id);
    throw new ConfigError([
      processor !== undefined
        ? `${configPath}: processors.${processor}: no anomaly processor with this id; configured: ${ids.join(', ') || '(none)'}`
        : ids.length === 0
          ? `${configPath}: no anomaly processor is configured`
          : `${configPath}: several anomaly processors (${ids.join(', ')}); pick one with --processor`,
    ]);
  }
  return chosen[0]!;
}

async function anomalyProcessors(
  path: string,
): Promise<{ id: string; config: AnomalyProcessorConfig }[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    ]);
  }
  const { value, problems, origins } = substituteEnv(parseYamlText(text, path), process.env);
  if (problems.length > 0) throw new ConfigError(problems);
  const processors = (value as { processors?: unknown } | null)?.processors;
  if (processors === undefined || processors === null) return [];
  if (typeof processors !== 'object' || Array.isArray(processors)) {
    throw new ConfigError(['processors: expected a mapping of component ids to settings']);
  }
  const out: { id: string; config: AnomalyProcessorConfig }[] = [];
  const issues: string[] = [];
  for (const [id, raw] of Object.entries(processors as Record<string, unknown>)) {
    const parsed = parseId(id);
    if (typeof parsed === 'string' || parsed.type !== 'anomaly') continue;
    const result = anomalyProcessorSchema.safeParse(raw ?? {}, { reportInput: true });
    if (result.success) {
      out.push({ id, config: result.data });
    } else {
      const context = { schema: anomalyProcessorSchema, shown: shownFor(origins) };
      issues.push(...formatIssues(`processors.${id}`, result.error, context));
    }
  }
  // Values from environment variables are named, never echoed (as at start-up).
  if (issues.length > 0) throw new ConfigError(explainEnvProblems(issues, origins));
  return out;
}

/** A full recalculation of a target's thresholds, as the processor's nightly job does it. */
export function recalculateTarget(t: Target, now: number): Promise<RecalcReport> {
  return recalculateStore(t.store, t.config, now);
}

/** The report as lines for a terminal. */
export function formatReport(r: RecalcReport): string {
  const lines = [
    `recalculated thresholds of ${r.keys} key(s) in ${r.duration_ms} ms: ${r.slots_learned} slot(s) learned, ${r.slots_fixed} on the fixed cold-start thresholds; ${r.changed} changed`,
  ];
  const sigma = (z: Record<string, number> | null) =>
    z
      ? Object.entries(z)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')
      : 'fixed';
  for (const c of r.changes.slice(0, 20)) {
    lines.push(
      `  ${c.service} ${c.operation} (${c.kind}) ${c.window} [${c.samples} samples]: ${sigma(c.before)} -> ${sigma(c.after)}`,
    );
  }
  if (r.changes.length > 20) lines.push(`  ... and ${r.changed - 20} more`);
  return lines.join('\n');
}
