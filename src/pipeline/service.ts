import type { Logger } from 'pino';
import type { Clock } from '../component/clock.js';
import type { Capability, Published } from '../component/capability.js';
import type { BuiltComponent, Component, Extension, Host } from '../component/component.js';
import type { Consumer, Signal } from '../component/consumer.js';
import type {
  ConnectorFactory,
  CreateSettings,
  ExporterFactory,
  ExtensionFactory,
  ProcessorFactory,
  ReceiverFactory,
} from '../component/factory.js';
import type { Config, PipelineConfig } from '../config/config.js';
import { destinations, settingToChange } from '../config/destinations.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { fanOut } from './fanout.js';

export interface ServiceSettings {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: SelfMetrics;
}

/**
 * The running graph: builds every component from a validated config, starts them downstream first
 * (extensions, then each component after everything it sends to: exporters, connectors and the
 * pipelines they feed, processors, receivers) and shuts them down in reverse, so that nothing
 * accepted is dropped on SIGTERM. It is the `Host` components see.
 */
export class Service implements Host {
  private readonly built: BuiltComponent[] = [];
  /** What each built component sends to (the edges of the graph), for the start order. */
  private readonly sendsTo = new Map<BuiltComponent, BuiltComponent[]>();
  private readonly published = new Map<string, Published<unknown>[]>();
  private readonly extensionsById = new Map<string, Extension>();
  private started: BuiltComponent[] = [];
  private state: 'built' | 'starting' | 'running' | 'stopping' | 'stopped' = 'built';
  private shutdownPromise: Promise<void> | undefined;
  /** Pipeline id -> its first consumer (for tests and tools that inject data directly). */
  readonly pipelineEntries = new Map<string, Consumer>();

  constructor(
    readonly config: Config,
    private readonly settings: ServiceSettings,
  ) {
    this.build();
  }

  components(): readonly BuiltComponent[] {
    return this.built;
  }

  getExtension(id: string): Extension | undefined {
    return this.extensionsById.get(id);
  }

  lookup<T>(capability: Capability<T>): readonly Published<T>[] {
    return (this.published.get(capability.name) ?? []) as Published<T>[];
  }

  /** True once every component has started and until shutdown begins (the /readyz answer). */
  isReady(): boolean {
    return this.state === 'running';
  }

  /** The component instance with this kind and id (the first, for per-signal instances). */
  find<T extends Component>(kind: BuiltComponent['kind'], id: string): T | undefined {
    return this.built.find((b) => b.kind === kind && b.id === id)?.instance as T | undefined;
  }

  private settingsFor(
    kind: string,
    id: string,
    extra: Record<string, string> = {},
  ): CreateSettings {
    return {
      id,
      logger: this.settings.logger.child({ component: `${kind}/${id}`, ...extra }),
      clock: this.settings.clock,
      metrics: this.settings.metrics,
      settingToChange: (setting) => settingToChange(this.config, `${kind}s.${id}.${setting}`),
    };
  }

  private build(): void {
    const { config } = this;
    for (const id of config.service.extensions) {
      const c = config.extensions.get(id)!;
      const instance = (c.factory as ExtensionFactory).create(
        this.settingsFor('extension', id),
        c.config,
      );
      this.extensionsById.set(id, instance);
      this.add('extension', id, undefined, undefined, [], instance);
    }

    // Each pipeline is built after the pipelines it feeds through connectors (validation has
    // ruled out cycles), so that a connector is created with the consumers it sends to.
    const entries = new Map<string, { consumer: Consumer; first: BuiltComponent[] }>();
    const exporters = new Map<string, { consumer: Consumer; built: BuiltComponent }>();
    const connectors = new Map<string, { consumer: Consumer; built: BuiltComponent }>();
    const pipelinesOf = (id: string, side: 'receivers' | 'exporters') =>
      config.service.pipelines.filter((p) => p[side].includes(id)).map((p) => p.id);

    const exporterFor = (id: string, signal: Signal) => {
      const key = `${id}\u0000${signal}`;
      let e = exporters.get(key);
      if (!e) {
        const c = config.exporters.get(id)!;
        const instance = (c.factory as ExporterFactory).create(
          this.settingsFor('exporter', id, { signal }),
          c.config,
          signal,
        );
        const pipelines = config.service.pipelines
          .filter((p) => p.signal === signal && p.exporters.includes(id))
          .map((p) => p.id);
        e = {
          consumer: instance,
          built: this.add('exporter', id, signal, undefined, pipelines, instance),
        };
        exporters.set(key, e);
      }
      return e;
    };

    const connectorFor = (id: string) => {
      let e = connectors.get(id);
      if (!e) {
        const c = config.connectors.get(id)!;
        const factory = c.factory as ConnectorFactory;
        const next: Partial<Record<Signal, Consumer>> = {};
        const downstream: BuiltComponent[] = [];
        for (const signal of factory.to) {
          const fed = config.service.pipelines.filter(
            (p) => p.signal === signal && p.receivers.includes(id),
          );
          if (fed.length === 0) continue;
          const list = fed.map(buildPipeline);
          next[signal] = fanOut(list.map((l) => l.consumer));
          for (const l of list) downstream.push(...l.first);
        }
        const instance = factory.create(this.settingsFor('connector', id), c.config, next);
        const pipelines = [...pipelinesOf(id, 'exporters'), ...pipelinesOf(id, 'receivers')];
        const built = this.add('connector', id, undefined, undefined, pipelines, instance);
        this.sendsTo.set(built, downstream);
        e = { consumer: instance, built };
        connectors.set(id, e);
      }
      return e;
    };

    const buildPipeline = (p: PipelineConfig) => {
      const done = entries.get(p.id);
      if (done) return done;
      const ends = p.exporters.map((id) =>
        config.connectors.has(id) ? connectorFor(id) : exporterFor(id, p.signal),
      );
      let next: Consumer = fanOut(ends.map((e) => e.consumer));
      let first = ends.map((e) => e.built);
      for (let i = p.processors.length - 1; i >= 0; i--) {
        const id = p.processors[i]!;
        const c = config.processors.get(id)!;
        const instance = (c.factory as ProcessorFactory).create(
          this.settingsFor('processor', id, { pipeline: p.id }),
          c.config,
          p.signal,
          next,
        );
        const built = this.add('processor', id, p.signal, p.id, [p.id], instance);
        this.sendsTo.set(built, first);
        first = [built];
        next = instance;
      }
      const entry = { consumer: next, first };
      entries.set(p.id, entry);
      this.pipelineEntries.set(p.id, next);
      return entry;
    };

    const receiverInputs = new Map<string, Map<Signal, PipelineConfig[]>>();
    for (const p of config.service.pipelines) {
      buildPipeline(p);
      for (const r of p.receivers) {
        if (config.connectors.has(r)) continue;
        let bySignal = receiverInputs.get(r);
        if (!bySignal) receiverInputs.set(r, (bySignal = new Map()));
        bySignal.set(p.signal, [...(bySignal.get(p.signal) ?? []), p]);
      }
    }

    for (const [id, bySignal] of receiverInputs) {
      const c = config.receivers.get(id)!;
      const next: Partial<Record<Signal, Consumer>> = {};
      const downstream: BuiltComponent[] = [];
      for (const [signal, list] of bySignal) {
        next[signal] = fanOut(list.map((p) => entries.get(p.id)!.consumer));
        for (const p of list) downstream.push(...entries.get(p.id)!.first);
      }
      this.settings.metrics.declareReceiver(id, [...bySignal.keys()]);
      const instance = (c.factory as ReceiverFactory).create(
        this.settingsFor('receiver', id),
        c.config,
        next,
      );
      const built = this.add(
        'receiver',
        id,
        undefined,
        undefined,
        pipelinesOf(id, 'receivers'),
        instance,
      );
      this.sendsTo.set(built, downstream);
    }

    for (const b of this.built) {
      for (const { capability, value } of b.instance.capabilities?.() ?? []) {
        const list = this.published.get(capability.name) ?? [];
        const same = list.find((p) => p.value === value && p.id === b.id && p.kind === b.kind);
        if (same) {
          const pipelines = same.pipelines as string[];
          for (const p of b.pipelines) if (!pipelines.includes(p)) pipelines.push(p);
        } else {
          list.push({ value, kind: b.kind, id: b.id, pipelines: [...b.pipelines] });
        }
        this.published.set(capability.name, list);
      }
    }
  }

  private add(
    kind: BuiltComponent['kind'],
    id: string,
    signal: Signal | undefined,
    pipeline: string | undefined,
    pipelines: readonly string[],
    instance: Component,
  ): BuiltComponent {
    const b: BuiltComponent = { kind, id, signal, pipeline, pipelines, instance };
    this.built.push(b);
    return b;
  }

  /**
   * Starts extensions, then each component once everything it sends to has started (`startOrder`).
   * If one fails, what already started is shut down and the error is rethrown.
   */
  async start(): Promise<void> {
    if (this.state !== 'built') throw new Error(`cannot start a service that is ${this.state}`);
    this.state = 'starting';
    let starting: BuiltComponent | undefined;
    try {
      for (const b of this.startOrder()) {
        starting = b;
        await b.instance.start(this);
        this.started.push(b);
      }
    } catch (err) {
      // The error is the caller's to report (the sidecar names the setting to change, and never
      // shows an address a set variable gave): here, only which component failed.
      this.settings.logger.error(
        { component: starting && `${starting.kind}/${starting.id}` },
        'start-up failed; stopping what was started',
      );
      await this.shutdown();
      throw err;
    }
    this.state = 'running';
    // One line per network exporter: where the data goes, and which setting decides it.
    for (const d of destinations(this.config)) {
      this.settings.logger
        .child({ component: `exporter/${d.exporter}` })
        .info(
          { endpoint: d.address, signals: d.signals, setting: d.setting },
          `sending ${d.signals.join(', ')} to ${d.address} ${d.source}`,
        );
    }
  }

  /**
   * The reverse of the start order: receivers first (no new data), then each component once
   * everything that sends to it has stopped (each flushes into the next, still running: a
   * connector into the pipelines it feeds), extensions last. Runs once; safe before start.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.state = 'stopping';
    for (const b of [...this.started].reverse()) {
      try {
        await b.instance.shutdown();
      } catch (err) {
        this.settings.logger.error({ err, component: `${b.kind}/${b.id}` }, 'shutdown failed');
      }
    }
    this.state = 'stopped';
  }

  /**
   * Extensions first; then, repeatedly, of the components whose downstream has all started, the
   * first by kind (exporters, connectors, processors, receivers) and then by build order. Without
   * connectors this is: exporters, the processors of each pipeline from last to first, receivers.
   */
  private startOrder(): BuiltComponent[] {
    const rank: Record<BuiltComponent['kind'], number> = {
      extension: 0,
      exporter: 1,
      connector: 2,
      processor: 3,
      receiver: 4,
    };
    const order: BuiltComponent[] = [];
    const placed = new Set<BuiltComponent>();
    const left = [...this.built];
    while (left.length > 0) {
      let best = -1;
      for (let i = 0; i < left.length; i++) {
        const b = left[i]!;
        if (!(this.sendsTo.get(b) ?? []).every((d) => placed.has(d))) continue;
        if (best < 0 || rank[b.kind] < rank[left[best]!.kind]) best = i;
      }
      if (best < 0) throw new Error('the pipeline graph has a cycle'); // validation rules it out
      const [b] = left.splice(best, 1);
      order.push(b!);
      placed.add(b!);
    }
    return order;
  }
}
