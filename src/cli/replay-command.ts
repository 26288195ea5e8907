import { createWriteStream, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { parseDuration } from '../config/duration.js';
import { parseCommandArgs } from './args.js';
import { defaultConfigPath } from './config-path.js';
import { createLogger } from '../telemetry/logger.js';
import type { AnomalyProcessorConfig } from '../detectors/anomaly/config.js';
import { compareRuns, formatComparison, storeCopies } from '../detectors/anomaly/replay/compare.js';
import { readFaultList, type Fault } from '../detectors/anomaly/replay/faults.js';
import { formatIncidents, formatScoring, formatTags } from '../detectors/anomaly/replay/format.js';
import { replay, type ReplayRun, type ReplaySettings } from '../detectors/anomaly/replay/replay.js';
import { scoreReplay } from '../detectors/anomaly/replay/score.js';
import { taggedSpansJson } from '../detectors/anomaly/replay/tagged-json.js';
import { tagSummary } from '../detectors/anomaly/replay/tag-runs.js';
import { chooseProcessor } from './anomaly-target.js';

const REPLAY_USAGE = `usage: hourglass replay [--config FILE] [--processor ID] FILE... [options]

Runs trace files through the anomaly processor, built from the config's settings, offline and
deterministically: the spans' own timestamps drive its clock (flushes, the daily window roll and
the scheduled recalculation happen in replay time) and two runs give the same verdicts. Prints
what would have been tagged. Never touches the sidecar's database (see --store). Exit 0 when
done, 2 when the config, a file or an option is wrong.

inputs:
  FILE...                 trace files to judge: OTLP/JSON (one request, an array, or JSON lines
                          as the file exporter writes them) or the Nezha/TraStrainer trace CSV
                          (.csv, .csv.gz); a directory stands for the trace files in it
  --history FILE          learned first, as hourglass backfill learns it, then the thresholds are
                          recalculated; repeatable (spans also among FILE are judged, not learned)
  --no-recalculate        keep the cold-start thresholds after the history (a fresh install
                          before its first nightly recalculation)
  --shift DURATION        move every timestamp (and the fault list), e.g. 168h or -336h; "weeks"
                          moves by whole weeks to the last week before now (the hours of the week
                          are kept)
  --history-shift DURATION  move the history's timestamps further, e.g. -168h (last week's copy)
  --store FILE            start from this baseline database and leave what was learned in it
                          (default: a temporary one, removed at the end; with --compare, each
                          config starts from its own copy and the file is left as it was)
  --restart-every DURATION  restart the sidecar every DURATION of replay time, e.g. 30m: the
                          processor shuts down (its last flush written) and a new one starts at
                          once on the same database, as a deploy does (default: never)
  --compare FILE          a second config (another version of the sidecar's, say): the same files
                          and history replayed with its anomaly processor too, and what each config
                          tagged side by side, the operations tagged differently, and with
                          --faults the headline figures of both
  --faults FILE           a fault list (the datasets' fault_list.json): score the verdicts against
                          it, beside the per-operation mean + k sigma rules and the rollingspanlatency
                          EWMA on the same stream

output:
  --spans FILE            write the tagged spans as OTLP/JSON lines (- for standard output)
  --runs N                runs of tags listed (default 40)
  --json                  print the report as JSON`;

const REPLAY_OPTIONS = {
  config: { type: 'string', short: 'c' },
  processor: { type: 'string' },
  history: { type: 'string', multiple: true, default: [] },
  'no-recalculate': { type: 'boolean', default: false },
  shift: { type: 'string' },
  'history-shift': { type: 'string' },
  'restart-every': { type: 'string' },
  store: { type: 'string' },
  faults: { type: 'string' },
  compare: { type: 'string' },
  spans: { type: 'string' },
  runs: { type: 'string', default: '40' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

type ReplayOptions = ReturnType<typeof parseReplay>['values'];

function parseReplay(args: string[]) {
  return parseCommandArgs('replay', {
    args,
    options: REPLAY_OPTIONS,
    allowPositionals: true,
    strict: true,
  });
}

export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseReplay(args);
  if (values.help) {
    process.stdout.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new Error(`no trace files given\n${REPLAY_USAGE}`);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 0) {
    throw new Error(`--runs: "${values.runs}" must be a whole number`);
  }
  if (values.compare !== undefined && values.spans !== undefined) {
    throw new Error('--spans writes the spans one config tagged: leave out --compare, or --spans');
  }
  const mine = await side(values.config ?? defaultConfigPath(), values.processor);
  const other =
    values.compare === undefined ? undefined : await side(values.compare, values.processor);
  const shiftMs = values.shift === 'weeks' ? undefined : signedDuration('shift', values.shift);
  const historyShiftMs = signedDuration('history-shift', values['history-shift']);
  const restartEveryMs = positiveDuration('restart-every', values['restart-every']);
  // With --compare each config starts from its own copy of --store: the file is left as it was.
  const copies =
    other && values.store !== undefined ? await storeCopies(values.store, 2) : undefined;
  const settings = {
    files: positionals,
    history: values.history,
    recalculate: !values['no-recalculate'],
    shiftMs,
    shiftToRecentWeeks: values.shift === 'weeks',
    historyShiftMs,
    restartEveryMs,
    logger: createLogger('warn'),
  };
  try {
    return await play(
      values,
      runs,
      settings,
      { ...mine, store: copies?.paths[0] ?? values.store },
      other && { ...other, store: copies?.paths[1] },
    );
  } finally {
    copies?.remove();
  }
}

/** One config replayed: its path, its anomaly processor's id and settings, its baseline file. */
interface Side {
  readonly path: string;
  readonly id: string;
  readonly config: AnomalyProcessorConfig;
  readonly store?: string;
}

async function side(path: string, processor: string | undefined): Promise<Side> {
  return { path, ...(await chooseProcessor(path, processor)) };
}

async function play(
  values: ReplayOptions,
  runs: number,
  settings: Omit<ReplaySettings, 'config'>,
  mine: Side,
  other: Side | undefined,
): Promise<number> {
  let out: WriteStream | NodeJS.WriteStream | undefined;
  if (values.spans !== undefined) {
    out = values.spans === '-' ? process.stdout : createWriteStream(values.spans);
  }
  const run = await replay({
    ...settings,
    config: mine.config,
    store: mine.store,
    onForwarded: out
      ? (bytes, severities) => {
          const line = taggedSpansJson(bytes, severities);
          if (line !== undefined) out!.write(`${line}\n`);
        }
      : undefined,
  });
  if (out && out !== process.stdout) {
    const file = out as WriteStream;
    await new Promise<void>((resolve, reject) => file.end(() => resolve()).on('error', reject));
  }
  const tags = tagSummary(run);
  const faults = values.faults ? readFaultList(values.faults, run.shiftMs) : undefined;
  const scoring = faults ? scoreReplay(run, faults.faults) : undefined;
  const compared = other && (await compare(run, other, settings, faults?.faults));
  const report = out === process.stdout ? process.stderr : process.stdout;
  if (values.json) {
    report.write(
      `${JSON.stringify({ replay: describe(run), tags, incidents: run.incidents, notes: faults?.notes ?? [], scoring, compare: compared && { config: other!.path, processor: other!.id, ...compared } }, null, 2)}\n`,
    );
    return 0;
  }
  const d = describe(run);
  report.write(
    `replayed ${d.spans} spans of ${d.files} file(s) in ${d.requests} requests, ${d.from} to ${d.to} UTC${d.duplicates > 0 ? ` (${d.duplicates} spans read twice, played once)` : ''}${d.history ? `; history: ${d.history.learned} of ${d.history.spans} spans learned (${d.history.judged} also judged, left to the judged files)${d.history.recalculated ? ', thresholds recalculated' : ', thresholds not recalculated'}` : ''}${d.restarts > 0 ? `; restarted ${d.restarts} time(s), every ${values['restart-every']}` : ''}\n\n`,
  );
  report.write(`${formatTags(tags, runs)}\n`);
  report.write(`\n${formatIncidents(run.incidents, runs)}\n`);
  for (const note of faults?.notes ?? []) report.write(`\nnote: ${note}\n`);
  if (scoring) report.write(`\n${formatScoring(scoring)}\n`);
  if (compared) {
    const names = configNames(mine.path, other!.path);
    const both = scoring && compared.scoring ? ([scoring, compared.scoring] as const) : undefined;
    report.write(
      `\ncompared with ${other!.path} (processors.${other!.id}):\n\n${formatComparison(compared.comparison, names, runs, both)}\n`,
    );
  }
  return 0;
}

/** The same files and history replayed with the other config, and what differs. */
async function compare(
  run: ReplayRun,
  other: Side,
  settings: Omit<ReplaySettings, 'config'>,
  faults: readonly Fault[] | undefined,
) {
  // The files are read again: the other config's `key_attributes` may key the spans otherwise.
  const theirs = await replay({ ...settings, config: other.config, store: other.store });
  return {
    comparison: compareRuns(run, theirs),
    incidents: theirs.incidents,
    scoring: faults ? scoreReplay(theirs, faults) : undefined,
  };
}

/** Column names for two config paths: their file names, unless those are the same. */
function configNames(a: string, b: string): [string, string] {
  const [x, y] = [basename(a), basename(b)];
  return x === y ? ['--config', '--compare'] : [x, y];
}

function describe(run: Awaited<ReturnType<typeof replay>>) {
  const r = run.stream.requests;
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  return {
    spans: run.stream.table.count,
    files: run.stream.files,
    requests: r.length,
    duplicates: run.stream.duplicates,
    from: iso(run.stream.table.startMs(r[0]!.first)),
    to: iso(r[r.length - 1]!.at),
    shift_ms: run.shiftMs,
    restarts: run.restarts,
    history: run.history && {
      spans: run.history.counts.spans + run.history.judged,
      learned: run.history.counts.learned,
      judged: run.history.judged,
      recalculated: run.recalculated,
    },
  };
}

/** A duration greater than zero, in ms; 0 when not given. */
function positiveDuration(name: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new Error(`--${name}: "${text}" is not a duration greater than zero (write e.g. 30m)`);
  }
  return ms;
}

/** A duration with an optional sign (`-168h`), in ms; 0 when not given. */
function signedDuration(name: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const negative = text.trim().startsWith('-');
  const ms = parseDuration(negative ? text.trim().slice(1) : text);
  if (ms === undefined) {
    throw new Error(`--${name}: "${text}" is not a duration (write e.g. 168h or -336h)`);
  }
  return negative ? -ms : ms;
}
