import { accessSync, constants } from 'node:fs';
import { systemClock } from '../component/clock.js';
import { parseDuration } from '../config/duration.js';
import { parseCommandArgs } from './args.js';
import { defaultConfigPath } from './config-path.js';
import { queryJaeger } from '../detectors/anomaly/backfill/jaeger-query.js';
import { readOtlpJsonFile } from '../detectors/anomaly/backfill/otlp-json.js';
import { Seeder } from '../detectors/anomaly/backfill/seeder.js';
import { FleetSeed, isPostgresUrl, recalculateStore } from '../detectors/anomaly/offline.js';
import { chooseProcessor, formatReport, openTarget, recalculateTarget } from './anomaly-target.js';

const BACKFILL_USAGE = `usage: hourglass backfill [--config FILE] [--processor ID] SOURCE... [options]

Seeds the anomaly processor's baselines from history, so a new install does not wait window_days
to be useful, then recalculates the thresholds. Spans are learned as the processor would have
learned them (by their own start time, per service, operation and kind; error spans only with
learn_from_errors; only those inside the window). Safe while the sidecar runs on the same file.
With a PostgreSQL storage (a fleet's database) the spans are written as one more instance's
learning: the running instances merge it at their next flush. Exit 0 when done, 2 when the
config, a source (a file, Jaeger) or an option is wrong.

sources (one or more):
  --file PATH       OTLP/JSON trace data: one request, an array, JSON lines (the file exporter's
                    output) or a saved Jaeger /api/v3/traces answer; repeatable
  --jaeger URL      a Jaeger query service (e.g. http://jaeger:16686), read through /api/v3/traces

Jaeger options:
  --service NAME    a service to read; repeatable (default: every service Jaeger lists)
  --operation NAME  only this operation
  --start TIME      RFC 3339 start (default: window_days ago)
  --end TIME        RFC 3339 end (default: now)
  --step DURATION   time range of one query (default 1h)
  --num-traces N    traces per query (default 1000; Jaeger returns at most this many)
  --timeout DURATION  per request (default 30s)

other options:
  --no-recalculate  only seed the baselines
  --config FILE, --processor ID   as for "recalculate"`;

function rfc3339(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) {
    throw new Error(`--${name}: "${v}" is not an RFC 3339 time such as 2026-01-12T09:00:00Z`);
  }
  return t;
}

function readable(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new Error(
      `${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

function positiveDuration(name: string, v: string, fallback: number): number {
  const ms = v === '' ? fallback : parseDuration(v);
  if (ms === undefined || ms <= 0)
    throw new Error(`--${name}: "${v}" is not a duration such as 1h`);
  return ms;
}

export async function backfillCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('backfill', {
    args,
    options: {
      config: { type: 'string', short: 'c' },
      processor: { type: 'string' },
      file: { type: 'string', multiple: true, default: [] },
      jaeger: { type: 'string' },
      service: { type: 'string', multiple: true, default: [] },
      operation: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      step: { type: 'string', default: '' },
      'num-traces': { type: 'string', default: '1000' },
      timeout: { type: 'string', default: '' },
      'no-recalculate': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${BACKFILL_USAGE}\n`);
    return 0;
  }
  if (values.file.length === 0 && values.jaeger === undefined) {
    process.stderr.write(
      `hourglass backfill: give at least one source: --file PATH or --jaeger URL\n\n${BACKFILL_USAGE}\n`,
    );
    return 2;
  }
  const numTraces = Number(values['num-traces']);
  if (!Number.isInteger(numTraces) || numTraces < 1) {
    throw new Error(`--num-traces: "${values['num-traces']}" must be a positive integer`);
  }
  const now = systemClock.now();
  const configPath = values.config ?? defaultConfigPath();
  const { id, config } = await chooseProcessor(configPath, values.processor);
  const options = {
    timeZone: config.timezone,
    windowDays: config.window_days,
    learnErrors: config.learn_from_errors,
    keyAttributes: config.key_attributes,
    maxKeys: config.max_keys,
    now,
  };
  // Every source and option is checked before the database is opened (and created, on a new
  // install): a mistyped file name or value leaves nothing behind.
  for (const file of values.file) readable(file);
  const jaegerRange = {
    startMs: rfc3339('start', values.start, now - config.window_days * 86_400_000),
    endMs: rfc3339('end', values.end, now),
    stepMs: positiveDuration('step', values.step, 3_600_000),
    timeoutMs: positiveDuration('timeout', values.timeout, 30_000),
  };
  const read = async (seeder: Seeder, where: string) => {
    for (const file of values.file) {
      for (const request of readOtlpJsonFile(file)) {
        seeder.add(request);
        if (seeder.due) await seeder.write();
      }
      process.stdout.write(`${file}: ${seeder.counts.spans} span(s) read so far\n`);
    }
    if (values.jaeger !== undefined) {
      const chunks = queryJaeger({
        baseUrl: values.jaeger,
        services: values.service,
        operation: values.operation,
        ...jaegerRange,
        numTraces,
      });
      let queries = 0;
      for await (const chunk of chunks) {
        for (const request of chunk.requests) seeder.add(request);
        if (seeder.due) await seeder.write();
        if (++queries % 24 === 0) {
          process.stdout.write(
            `jaeger: ${queries} queries, ${seeder.counts.spans} span(s) read so far\n`,
          );
        }
      }
    }
    await seeder.write();
    const c = seeder.counts;
    process.stdout.write(
      `learned ${c.learned} of ${c.spans} span(s) into ${seeder.keys} key(s) of ${id} (${where}); skipped: ${c.outsideWindow} outside the ${config.window_days}-day window, ${c.errors} errors, ${c.noDuration} without a duration, ${c.duplicates} duplicates, ${c.keysLimit} beyond max_keys\n`,
    );
  };
  if (isPostgresUrl(config.storage)) {
    // A fleet's database: written as an instance's flush writes; the instances follow it.
    const fleet = await FleetSeed.open(config);
    try {
      await read(new Seeder(fleet, options), fleet.label);
      if (!values['no-recalculate']) {
        const report = await fleet.recalculate((store) => recalculateStore(store, config, now));
        process.stdout.write(`${formatReport(report)}\n`);
      }
      return 0;
    } finally {
      await fleet.close();
    }
  }
  const target = await openTarget(configPath, values.processor, systemClock);
  try {
    await read(new Seeder(target.store, options), config.storage);
    if (!values['no-recalculate']) {
      process.stdout.write(`${formatReport(await recalculateTarget(target, now))}\n`);
    }
    return 0;
  } finally {
    target.db.close();
  }
}
