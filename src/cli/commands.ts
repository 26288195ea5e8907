import { backfillCommand } from './backfill-command.js';
import { recalculateCommand } from './recalculate-command.js';
import { replayCommand } from './replay-command.js';
import type { Command } from './command.js';
import { healthcheckCommand } from './healthcheck-command.js';
import { runCommand } from './run-command.js';
import { validateCommand } from './validate-command.js';

/**
 * Every `hourglass <command>`, in the order `hourglass --help` lists them. A new command is one
 * entry here: a name, a summary for the help text, and its `run(args, context)`.
 */
export const COMMANDS: ReadonlyArray<readonly [string, Command]> = [
  [
    'run',
    {
      summary:
        'run the sidecar (the default); --config FILE, else $HOURGLASS_CONFIG,\nelse ./otel-config.yaml, else the built-in default config',
      run: runCommand,
    },
  ],
  [
    'validate',
    {
      summary: 'check a config file and print every problem (exit 1 if any)',
      run: validateCommand,
    },
  ],
  [
    'recalculate',
    {
      summary:
        "recalculate the adaptive severity thresholds now, from the baselines\nin the anomaly processor's SQLite file",
      run: recalculateCommand,
    },
  ],
  [
    'backfill',
    {
      summary:
        'seed baselines from OTLP JSON files (--file) or a Jaeger query API\n(--jaeger URL), then recalculate',
      run: backfillCommand,
    },
  ],
  [
    'replay',
    {
      summary:
        'run trace files through the anomaly processor offline and print what\nwould have been tagged; score it against a fault list',
      run: replayCommand,
    },
  ],
  [
    'healthcheck',
    {
      summary: 'exit 0 if the running sidecar answers /readyz (the Docker HEALTHCHECK)',
      run: healthcheckCommand,
    },
  ],
];
