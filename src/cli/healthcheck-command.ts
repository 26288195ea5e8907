import { readFile } from 'node:fs/promises';
import { timerMs } from '../component/clock.js';
import type { TelemetryConfig } from '../config/config.js';
import { hostAndPort, isWildcard } from '../config/addresses.js';
import { parseDuration } from '../config/duration.js';
import { substituteEnv } from '../config/env.js';
import { explainEnvProblems } from '../config/env-problems.js';
import { parseYamlText } from '../config/load.js';
import { telemetrySettings } from '../config/service-section.js';
import { parseCommandArgs } from './args.js';
import { defaultConfigPath } from './config-path.js';
import { printProblems } from './problems.js';

const HEALTHCHECK_USAGE = `usage: hourglass healthcheck [--config FILE] [--timeout DURATION]

Asks a running sidecar whether it is ready (GET /readyz on the config's
service.telemetry.metrics.address; 0.0.0.0 and :: are asked on the loopback address). Exit 0 when
it answers 200, 1 otherwise: the Docker image's HEALTHCHECK. It reads the same config as "run"
(--config, else $HOURGLASS_CONFIG, else ./otel-config.yaml), so it follows the configured address.

options:
  --config FILE        the sidecar's config
  --timeout DURATION   how long to wait for the answer (default 3s)`;

export async function healthcheckCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('healthcheck', {
    args,
    options: {
      config: { type: 'string', short: 'c' },
      timeout: { type: 'string', default: '3s' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HEALTHCHECK_USAGE}\n`);
    return 0;
  }
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new Error(`--timeout: "${values.timeout}" is not a duration such as 3s`);
  }
  const path = values.config ?? defaultConfigPath();
  const telemetry = await telemetryOf(path);
  if (Array.isArray(telemetry)) {
    printProblems(`hourglass healthcheck: ${path}`, telemetry);
    return 1;
  }
  if (telemetry.metrics.level === 'none') {
    process.stdout.write(
      `${path}: service.telemetry.metrics.level is none: there is no /readyz to ask\n`,
    );
    return 0;
  }
  const { host, port } = hostAndPort(telemetry.metrics.address)!;
  const probe = isWildcard(host)
    ? host.includes(':')
      ? '[::1]'
      : '127.0.0.1'
    : host.includes(':')
      ? `[${host}]`
      : host;
  const url = `http://${probe}:${port}/readyz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timerMs(timeoutMs)) });
    await res.arrayBuffer();
    if (res.status === 200) {
      process.stdout.write(`${url}: ready\n`);
      return 0;
    }
    process.stderr.write(`${url}: not ready (HTTP ${res.status})\n`);
    return 1;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    process.stderr.write(`${url}: no answer (${cause ?? (err as Error).name})\n`);
    return 1;
  }
}

/** The telemetry settings of a config file, or its problems (read, YAML, env, schema). */
async function telemetryOf(path: string): Promise<TelemetryConfig | string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return [
      `${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    ];
  }
  try {
    const { value, problems, origins } = substituteEnv(parseYamlText(text, path), process.env);
    if (problems.length > 0) return problems;
    const telemetry = telemetrySettings(value);
    return Array.isArray(telemetry) ? explainEnvProblems(telemetry, origins) : telemetry;
  } catch (err) {
    return (err as { problems?: string[] }).problems ?? [String(err)];
  }
}
