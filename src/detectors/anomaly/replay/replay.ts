import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NO_HOST, type Host } from '../../../component/component.js';
import type { OtlpBatch } from '../../../component/consumer.js';
import { ManualClock } from '../../../component/manual-clock.js';
import { silentLogger } from '../../../telemetry/logger.js';
import { SelfMetrics } from '../../../telemetry/self-metrics.js';
import type { AnomalyProcessor } from '../anomaly-processor.js';
import { incidentsSchema } from '../incidents/config.js';
import { IncidentEngine, type IncidentChange, type IncidentListener } from '../incidents/engine.js';
import type { IncidentView } from '../incidents/incident.js';
import { IncidentMetrics } from '../incidents/incident-metrics.js';
import { Seeder, type SeedCounts } from '../backfill/seeder.js';
import type { AnomalyProcessorConfig } from '../config.js';
import { anomalyProcessorFactory } from '../factory.js';
import { recalculateStore } from '../offline.js';
import { BaselineStore } from '../internal/store/baseline-store.js';
import { openDatabase } from '../internal/store/open-database.js';
import { encodeTableRequest } from './encode-table.js';
import { readStream, type ReplayStream } from './inputs.js';
import { SpanTable } from './span-table.js';
import { severitiesOf } from './verdicts.js';

export interface ReplaySettings {
  /** The processor's settings (its `storage` is replaced: replay never touches a live database). */
  readonly config: AnomalyProcessorConfig;
  /** The trace files to judge (a directory stands for its trace files). */
  readonly files: readonly string[];
  /** Learned first, as `hourglass backfill` would, then thresholds recalculated. */
  readonly history?: readonly string[];
  /** More history, already read (a benchmark's selection of spans); learned after the files. */
  readonly historyTable?: SpanTable;
  /** Moves every timestamp (ms; e.g. whole weeks, to replay old data as recent weeks). */
  readonly shiftMs?: number;
  /** Instead of `shiftMs`: by whole weeks, so that the last span falls in the week before now. */
  readonly shiftToRecentWeeks?: boolean;
  /** Moves the history's timestamps further (ms; e.g. -7 days: last week's copy of the traffic). */
  readonly historyShiftMs?: number;
  /** Start from this baseline database, and leave what was learned in it (default: a temporary one). */
  readonly store?: string;
  /** Recalculate thresholds after the history (default true; false: a fresh install before its night). */
  readonly recalculate?: boolean;
  readonly logger?: Logger;
  /** Each request as the processor forwarded it, with its spans' severities (0: untagged). */
  readonly onForwarded?: (bytes: Uint8Array, severities: Uint8Array) => void;
  /**
   * Other `incidents` settings, by name: each an incident engine fed the very spans the
   * processor's engine is fed, at the same times (what is tagged does not depend on incidents),
   * so that settings are compared in one replay (`npm run bench:real -- --incidents`).
   */
  readonly incidentVariants?: Readonly<Record<string, Record<string, unknown>>>;
  /**
   * Restarts the sidecar every this many ms of replay time: the processor is shut down (its last
   * flush written) and a new one started on the same database, as a deploy does. 0: never.
   */
  readonly restartEveryMs?: number;
}

/** The incidents of one of `incidentVariants`. */
export interface IncidentVariantRun {
  readonly name: string;
  readonly incidents: readonly IncidentView[];
  readonly notifiedAt: ReadonlyMap<string, number>;
  /** Per span of `stream.table` that carries one: its `anomaly.incident_id`. */
  readonly spanIncident: ReadonlyMap<number, string>;
}

export interface ReplayRun {
  readonly stream: ReplayStream;
  /** Per span of `stream.table`: the severity it was tagged with, 0 when untagged. */
  readonly severity: Uint8Array;
  readonly history:
    { readonly table: SpanTable; readonly counts: SeedCounts; readonly judged: number } | undefined;
  readonly config: AnomalyProcessorConfig;
  /** How far the timestamps were moved (ms). */
  readonly shiftMs: number;
  /** Whether thresholds were recalculated after the history. */
  readonly recalculated: boolean;
  /** The incidents it opened, as they were at the end (empty when incidents are off). */
  readonly incidents: readonly IncidentView[];
  /**
   * Per incident id: the replay time its `opened` event was sent, the notification the
   * `incident_notifier` extension sends at once.
   */
  readonly notifiedAt: ReadonlyMap<string, number>;
  /** Per span of `stream.table` that carries one: its `anomaly.incident_id`. */
  readonly spanIncident: ReadonlyMap<number, string>;
  /** The same for each of `incidentVariants`. */
  readonly variants: readonly IncidentVariantRun[];
  /** How many times the sidecar was restarted (`restartEveryMs`). */
  readonly restarts: number;
}

const WEEK_MS = 7 * 86_400_000;
const host: Host = NO_HOST;
const MS_NS = 1_000_000n;

/**
 * Plays trace files through the `anomaly` processor, built by its factory with the given settings,
 * offline and deterministically: a clock moved by the spans' own timestamps fires the flushes, the
 * window roll and the scheduled recalculations in replay time, and background jobs finish before
 * the next request, so two runs give the same verdicts.
 */
export async function replay(s: ReplaySettings): Promise<ReplayRun> {
  let shiftMs = Math.round(s.shiftMs ?? 0);
  const keys = s.config.key_attributes;
  let stream = readStream(s.files, BigInt(shiftMs) * MS_NS, keys);
  if (stream.requests.length === 0) throw new Error('no spans to replay in the files given');
  if (s.shiftToRecentWeeks) {
    const last = stream.requests[stream.requests.length - 1]!.at;
    shiftMs = Math.floor((Date.now() - last) / WEEK_MS) * WEEK_MS;
    if (shiftMs !== 0) stream = readStream(s.files, BigInt(shiftMs) * MS_NS, keys);
  }
  const shift = BigInt(shiftMs) * MS_NS;
  const tmp = s.store === undefined ? mkdtempSync(join(tmpdir(), 'hourglass-replay-')) : undefined;
  const config: AnomalyProcessorConfig = {
    ...s.config,
    storage: s.store ?? join(tmp!, 'replay.db'),
  };
  const logger = s.logger ?? silentLogger();
  try {
    const first = stream.requests[0]!.at;
    const history =
      (s.history && s.history.length > 0) || s.historyTable
        ? await learnHistory(s, config, stream, first, shift, logger)
        : undefined;
    const played = await play(stream, config, logger, s);
    return {
      stream,
      ...played,
      history,
      config,
      shiftMs,
      recalculated: !!history && s.recalculate !== false,
    };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The history, learned into the database as `hourglass backfill` learns it (spans also among the
 * judged ones are left out), then thresholds recalculated unless asked not to.
 */
async function learnHistory(
  s: ReplaySettings,
  config: AnomalyProcessorConfig,
  judged: ReplayStream,
  firstJudged: number,
  shift: bigint,
  logger: Logger,
) {
  const historyShift = shift + BigInt(Math.round(s.historyShiftMs ?? 0)) * MS_NS;
  const t =
    s.history && s.history.length > 0
      ? readStream(s.history, historyShift, config.key_attributes).table
      : new SpanTable();
  if (s.historyTable) {
    for (let i = 0; i < s.historyTable.count; i++) s.historyTable.copyTo(t, i, historyShift);
  }
  const judgedKeys = new Set<number>();
  for (let i = 0; i < judged.table.count; i++) judgedKeys.add(judged.table.spanKey(i));
  let last = firstJudged;
  for (let i = 0; i < t.count; i++) last = Math.max(last, t.endMs(i));
  const db = openDatabase(config.storage, logger, last);
  try {
    const store = new BaselineStore(db);
    const seeder = new Seeder(store, {
      timeZone: config.timezone,
      windowDays: config.window_days,
      learnErrors: config.learn_from_errors,
      keyAttributes: config.key_attributes,
      maxKeys: config.max_keys,
      now: last,
    });
    let alsoJudged = 0;
    for (let i = 0; i < t.count; i++) {
      const key = t.spanKey(i);
      if (judgedKeys.has(key)) {
        alsoJudged++;
        continue;
      }
      const k = t.keys[t.key[i]!]!;
      seeder.learn(k.service, k.name, k.kind, t.startMs(i), t.durationMs(i), 0, String(key));
    }
    seeder.flush();
    if (s.recalculate !== false) {
      await recalculateStore(store, config, last);
    }
    return { table: t, counts: seeder.counts, judged: alsoJudged };
  } finally {
    db.close();
  }
}

async function play(
  stream: ReplayStream,
  config: AnomalyProcessorConfig,
  logger: Logger,
  s: Pick<ReplaySettings, 'onForwarded' | 'incidentVariants' | 'restartEveryMs'>,
): Promise<{
  severity: Uint8Array;
  incidents: IncidentView[];
  notifiedAt: Map<string, number>;
  spanIncident: Map<number, string>;
  variants: IncidentVariantRun[];
  restarts: number;
}> {
  const onForwarded = s.onForwarded;
  const { table, requests } = stream;
  const clock = new ManualClock(requests[0]!.at - 1);
  const restartEvery = s.restartEveryMs ?? 0;
  if (restartEvery > 0 && Object.keys(s.incidentVariants ?? {}).length > 0) {
    throw new Error('incident variants cannot be compared across restarts');
  }
  let forwarded: OtlpBatch | undefined;
  const next = {
    consume: (batch: OtlpBatch) => {
      forwarded = batch;
      return Promise.resolve();
    },
  };
  const severity = new Uint8Array(table.count);
  // Each incident as it was last heard of (it opens, grows, resolves in replay time).
  const heard = () => {
    const incidents = new Map<string, IncidentView>();
    const notifiedAt = new Map<string, number>();
    const listener = (c: IncidentChange) => {
      incidents.set(c.incident.id, c.incident);
      if (c.type === 'opened' && !notifiedAt.has(c.incident.id)) {
        notifiedAt.set(c.incident.id, clock.now());
      }
    };
    return { incidents, notifiedAt, listener };
  };
  const { incidents, notifiedAt, listener } = heard();
  // The table's index of the first span of the request in hand.
  let first = 0;
  const spanIncident = new Map<number, string>();
  // A new processor (a restarted sidecar) on the same database, heard from the start.
  const launch = async () => {
    const p = anomalyProcessorFactory().create(
      { id: 'anomaly', logger, clock, metrics: new SelfMetrics({ processMetrics: false }) },
      config,
      'traces',
      next,
    ) as AnomalyProcessor;
    const engine = p.detector.incidents;
    engine?.subscribe(listener);
    if (engine) recordIncidents(engine, () => first, spanIncident);
    await p.start(host);
    return p;
  };
  const stop = async (p: AnomalyProcessor) => {
    await p.shutdown();
    for (const v of p.detector.incidents?.openIncidents() ?? []) incidents.set(v.id, v);
  };
  let processor = await launch();
  const primary = processor.detector.incidents;
  const shadows = Object.entries(s.incidentVariants ?? {}).map(([name, settings]) => {
    if (!primary) throw new Error('incidents are off: nothing to compare with');
    const h = heard();
    const engine = shadowEngine(primary, settings, h.listener);
    return { name, engine, spanIncident: recordIncidents(engine, () => first), ...h };
  });
  // The first restart time after t (at least the next float: 1 ns added to epoch ms is nothing).
  const after = (t: number) => t + Math.max(restartEvery, t * Number.EPSILON);
  let restartAt = restartEvery > 0 ? after(requests[0]!.at) : Number.POSITIVE_INFINITY;
  let restarts = 0;
  try {
    for (const r of requests) {
      if (r.at >= restartAt) {
        // The sidecar stops when its time comes and starts again at once (no downtime).
        clock.set(restartAt);
        await processor.detector.idle();
        await stop(processor);
        processor = await launch();
        restarts++;
        // The next time on the restart grid after this request's, in one step: a loop of
        // restartEvery steps ran for ever on --restart-every 1ns, and long on 1ms over months.
        restartAt += (Math.floor((r.at - restartAt) / restartEvery) + 1) * restartEvery;
        if (restartAt <= r.at) restartAt = after(r.at);
      }
      if (r.at > clock.now()) clock.set(r.at);
      await processor.detector.idle();
      const bytes = r.bytes ?? encodeTableRequest(table, r.first, r.count);
      forwarded = undefined;
      first = r.first;
      await processor.consume({ signal: 'traces', bytes, items: r.count });
      const out = forwarded as OtlpBatch | undefined;
      if (!out) throw new Error('the processor forwarded nothing');
      const sev = out.bytes === bytes ? new Uint8Array(r.count) : severitiesOf(out.bytes);
      if (sev.length !== r.count) throw new Error('the processor changed the number of spans');
      severity.set(sev, r.first);
      onForwarded?.(out.bytes, sev);
    }
    // The last flush interval, so that what is left in memory is written as the sidecar would.
    clock.advance(config.flush_interval);
    await processor.detector.idle();
  } finally {
    await stop(processor);
  }
  const variants = shadows.map((v) => {
    for (const o of v.engine.openIncidents()) v.incidents.set(o.id, o);
    const { name, notifiedAt, spanIncident } = v;
    return { name, incidents: [...v.incidents.values()], notifiedAt, spanIncident };
  });
  const list = [...incidents.values()];
  return { severity, incidents: list, notifiedAt, spanIncident, variants, restarts };
}

/**
 * Records the incident `engine` names for each tagged span (`anomaly.incident_id`), by the span's
 * index in the table: the request's first (`first()`) plus its place in the request (into `out`:
 * one map for the processors of a replay with restarts).
 */
function recordIncidents(
  engine: IncidentEngine,
  first: () => number,
  out = new Map<number, string>(),
): Map<number, string> {
  const assign = engine.assign.bind(engine);
  engine.assign = (index, tagged, now) => {
    const ids = assign(index, tagged, now);
    for (let k = 0; k < tagged.length; k++) {
      const id = ids[k];
      if (id !== undefined) out.set(first() + tagged[k]!.span, id);
    }
    return ids;
  };
  return out;
}

/**
 * An incident engine with other settings, fed what `primary` is fed when it is (its `assign` and
 * `tick` are wrapped), telling `listener`.
 */
export function shadowEngine(
  primary: IncidentEngine,
  settings: Record<string, unknown>,
  listener: IncidentListener,
): IncidentEngine {
  const metrics = new IncidentMetrics(new SelfMetrics({ processMetrics: false }), 'shadow', 50);
  const shadow = new IncidentEngine(incidentsSchema.parse(settings), metrics, primary.levelOf);
  shadow.subscribe(listener);
  const assign = primary.assign.bind(primary);
  const tick = primary.tick.bind(primary);
  primary.assign = (index, tagged, now) => {
    shadow.assign(index, tagged, now);
    return assign(index, tagged, now);
  };
  primary.tick = (now) => {
    shadow.tick(now);
    tick(now);
  };
  return shadow;
}
