import type { AddressSetting } from '../component/factory.js';
import type { ComponentConfig, Config, PipelineConfig, TelemetryConfig } from './config.js';
import {
  hostAndPort,
  isThisHost,
  isWildcard,
  normalizeHost,
  type HostIdentity,
} from './addresses.js';
import type { EnvOrigins } from './env.js';
import { shownFor } from './env-problems.js';

/** What the address checks look at: the components that will run, and the telemetry endpoint. */
export interface AddressCheckInput {
  readonly receivers: ReadonlyMap<string, ComponentConfig>;
  readonly exporters: ReadonlyMap<string, ComponentConfig>;
  readonly extensions: ReadonlyMap<string, ComponentConfig>;
  readonly pipelines: readonly PipelineConfig[];
  readonly serviceExtensions: readonly string[];
  readonly telemetry: TelemetryConfig | undefined;
}

interface Listening {
  readonly path: string;
  readonly address: string;
  /** How messages show the address: as written in the file when a set variable gave it. */
  readonly shown: string;
  readonly host: string;
  readonly port: number;
  /** `receiver`, `extension`, `telemetry`: what a client sending there would reach. */
  readonly kind: string;
}

/**
 * Start-up checks across components, run by `hourglass run` and `hourglass validate`:
 *
 * - no two servers of this process listen on one address (they would fail at start, one after the
 *   other);
 * - no exporter sends to one of this process's own servers. An exporter pointed at its own
 *   receiver (the shipped `localhost:4317` default once did this) sends every span back in,
 *   forever, re-tagged and re-learned on each pass. `localhost`, `127.0.0.1`, `0.0.0.0`, `[::1]`,
 *   `::`, this host's names and interface addresses, and names that resolve to them all count as
 *   this host.
 */
export async function checkAddresses(
  input: AddressCheckInput,
  origins: EnvOrigins,
  identity: HostIdentity,
): Promise<string[]> {
  const problems: string[] = [];
  const shown = shownFor(origins);
  const listening = listeners(input, origins);
  for (let i = 0; i < listening.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = listening[i]!;
      const b = listening[j]!;
      if (a.port === 0 || a.port !== b.port || !overlap(a.host, b.host)) continue;
      problems.push(
        `${a.path}: ${a.shown} is also where ${b.path} listens (${b.shown}): two servers cannot listen on one address; give one of them another port${a.shown === a.address ? hint(origins, a.path) : ''}`,
      );
    }
  }
  const local = new Map<string, Promise<boolean>>();
  const here = (host: string) => {
    let p = local.get(host);
    if (!p) local.set(host, (p = isThisHost(host, identity)));
    return p;
  };
  for (const [id, signals] of exportersInUse(input.pipelines)) {
    const c = input.exporters.get(id);
    if (!c || c.factory.kind !== 'exporter' || !c.factory.targets) continue;
    const seen = new Set<string>();
    for (const signal of signals) {
      for (const t of c.factory.targets(c.config, signal)) {
        const target = hostAndPort(t.address);
        const path = `exporters.${id}.${t.setting}`;
        if (!target || seen.has(path)) continue;
        for (const l of listening) {
          if (l.port === 0 || l.port !== target.port) continue;
          if (!(await here(target.host)) || !(await here(l.host))) continue;
          seen.add(path);
          // A set variable's value is never echoed: the setting is shown as written, naming it.
          const written = shown(path);
          problems.push(
            loopMessage(path, written, target, l) + (written ? '' : hint(origins, path)),
          );
          break;
        }
      }
    }
  }
  return problems;
}

/** `shownTarget`: how to show the exporter's setting when a set variable gave it (not its value). */
function loopMessage(
  path: string,
  shownTarget: string | undefined,
  target: { host: string; port: number },
  l: Listening,
): string {
  const to =
    shownTarget ?? `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const what =
    l.kind === 'receiver'
      ? `this process's own receiver (${l.path} listens on ${l.shown}): the data would come back in and loop forever`
      : `this process's own ${l.kind === 'telemetry' ? 'telemetry endpoint' : 'extension'} (${l.path} listens on ${l.shown}), not an OTLP server`;
  return `${path}: sends to ${to}, which is ${what}; point it at the backend (Jaeger, a Collector) instead`;
}

/** ` (set by JAEGER_OTLP_ENDPOINT)`: the variable to change, when the value came from one. */
function hint(origins: EnvOrigins, path: string): string {
  const origin = origins.get(path);
  if (!origin) return '';
  const set = origin.references.filter((r) => r.resolution === 'set').map((r) => r.name);
  if (set.length > 0) return ` (set by ${set.join(', ')})`;
  const names = origin.references.map((r) => r.name);
  return ` (the default of \${env:${names[0]}}, which is not set: set ${names.join(', ')} to change it)`;
}

/**
 * The setting that makes a server of this process listen on `address`, with the variable that
 * decides it (`service.telemetry.metrics.address (set by HOURGLASS_TELEMETRY_ENDPOINT)`): a
 * server that cannot listen at start-up is named by what to change. `shown`: how to show the
 * address in the message (as written in the file, when a set variable gave it: never its value).
 */
export function listenSetting(
  config: Config,
  address: string,
): { setting: string; shown: string } | undefined {
  const l = listeners(
    {
      ...config,
      pipelines: config.service.pipelines,
      serviceExtensions: config.service.extensions,
      telemetry: config.service.telemetry,
    },
    config.env,
  ).find((x) => x.address === address);
  return l === undefined
    ? undefined
    : { setting: `${l.path}${hint(config.env, l.path)}`, shown: l.shown };
}

function listeners(input: AddressCheckInput, origins: EnvOrigins): Listening[] {
  const out: Listening[] = [];
  const shown = shownFor(origins);
  const add = (prefix: string, kind: string, list: readonly AddressSetting[]) => {
    for (const { setting, address } of list) {
      const hp = hostAndPort(address);
      const path = `${prefix}.${setting}`;
      if (hp) out.push({ path, address, shown: shown(path) ?? address, ...hp, kind });
    }
  };
  const used = new Set(input.pipelines.flatMap((p) => p.receivers));
  for (const [id, c] of input.receivers) {
    if (used.has(id) && c.factory.kind === 'receiver' && c.factory.listeners) {
      add(`receivers.${id}`, 'receiver', c.factory.listeners(c.config));
    }
  }
  for (const id of input.serviceExtensions) {
    const c = input.extensions.get(id);
    if (c?.factory.kind === 'extension' && c.factory.listeners) {
      add(`extensions.${id}`, 'extension', c.factory.listeners(c.config));
    }
  }
  const metrics = input.telemetry?.metrics;
  if (metrics && metrics.level !== 'none') {
    add('service.telemetry.metrics', 'telemetry', [
      { setting: 'address', address: metrics.address },
    ]);
  }
  return out;
}

function exportersInUse(
  pipelines: readonly PipelineConfig[],
): Map<string, Set<PipelineConfig['signal']>> {
  const out = new Map<string, Set<PipelineConfig['signal']>>();
  for (const p of pipelines) {
    for (const id of p.exporters) {
      let s = out.get(id);
      if (!s) out.set(id, (s = new Set()));
      s.add(p.signal);
    }
  }
  return out;
}

/** Two listen hosts that would take the same socket (a wildcard takes every interface). */
function overlap(a: string, b: string): boolean {
  const [x, y] = [normalizeHost(a), normalizeHost(b)];
  const loopback = (h: string) => h === '::1' || h.startsWith('127.');
  return (
    isWildcard(x) ||
    isWildcard(y) ||
    x === y ||
    (x === 'localhost' && loopback(y)) ||
    (y === 'localhost' && loopback(x))
  );
}
