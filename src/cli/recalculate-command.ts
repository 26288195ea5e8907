import { systemClock } from '../component/clock.js';
import { parseCommandArgs } from './args.js';
import { defaultConfigPath } from './config-path.js';
import { formatReport, openTarget, recalculateTarget } from './anomaly-target.js';

const RECALCULATE_USAGE = `usage: hourglass recalculate [--config FILE] [--processor ID] [--json]

Recalculates the adaptive severity thresholds of the anomaly processor now, from the last
window_days of baselines in its SQLite file (what the nightly job does). Safe while the sidecar
runs on the same file: it picks the new thresholds up at its next flush. Exit 0 when done, 2 when
the config, the file (which must exist: a relative path is read from the working directory) or an
option is wrong.

options:
  --config FILE     the sidecar's config (default as for "run")
  --processor ID    which anomaly processor, when the config has several (e.g. anomaly/edge)
  --json            print the report as JSON (one of the results POST /api/v1/recalculate returns)`;

export async function recalculateCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('recalculate', {
    args,
    options: {
      config: { type: 'string', short: 'c' },
      processor: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${RECALCULATE_USAGE}\n`);
    return 0;
  }
  const target = await openTarget(
    values.config ?? defaultConfigPath(),
    values.processor,
    systemClock,
    { existing: true },
  );
  try {
    const report = await recalculateTarget(target, systemClock.now());
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ processor: target.id, ...report }, null, 2)}\n`
        : `${formatReport(report)}\n`,
    );
    return 0;
  } finally {
    target.db.close();
  }
}
