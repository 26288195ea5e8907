import type { Logger } from 'pino';
import type { Clock } from '../component/clock.js';
import type {
  BuiltComponent,
  Component,
  Exporter,
  Extension,
  Host,
} from '../component/component.js';
import type { Consumer, Signal } from '../component/consumer.js';
import type {
  CreateSettings,
  ExporterFactory,
  ExtensionFactory,
  ProcessorFactory,
  ReceiverFactory,
} from '../component/factory.js';
import type { Config } from '../config/config.js';
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
 * (extensions, exporters, processors, receivers) and shuts them down in reverse, so that nothing
 * accepted is dropped on SIGTERM. It is the `Host` components see.
 */
export class Service implements Host {
  private readonly built: BuiltComponent[] = [];
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
      this.built.push({
        kind: 'extension',
        id,
        signal: undefined,
        pipeline: undefined,
        pipelines: [],
        instance,
      });
    }

    const exporters = new Map<string, { instance: Consumer; pipelines: string[] }>();
    const exporterFor = (id: string, signal: Signal, pipeline: string): Consumer => {
      const key = `${id}\u0000${signal}`;
      let e = exporters.get(key);
      if (!e) {
        const c = config.exporters.get(id)!;
        const instance = (c.factory as ExporterFactory).create(
          this.settingsFor('exporter', id, { signal }),
          c.config,
          signal,
        );
        e = { instance, pipelines: [] };
        this.built.push({
          kind: 'exporter',
          id,
          signal,
          pipeline: undefined,
          pipelines: e.pipelines,
          instance,
        });
        exporters.set(key, e);
      }
      e.pipelines.push(pipeline);
      return e.instance;
    };

    const receiverInputs = new Map<string, Map<Signal, Consumer[]>>();
    const receiverPipelines = new Map<string, string[]>();
    for (const p of config.service.pipelines) {
      let next: Consumer = fanOut(p.exporters.map((id) => exporterFor(id, p.signal, p.id)));
      for (let i = p.processors.length - 1; i >= 0; i--) {
        const id = p.processors[i]!;
        const c = config.processors.get(id)!;
        const instance = (c.factory as ProcessorFactory).create(
          this.settingsFor('processor', id, { pipeline: p.id }),
          c.config,
          p.signal,
          next,
        );
        this.built.push({
          kind: 'processor',
          id,
          signal: p.signal,
          pipeline: p.id,
          pipelines: [p.id],
          instance,
        });
        next = instance;
      }
      this.pipelineEntries.set(p.id, next);
      for (const r of p.receivers) {
        receiverPipelines.set(r, [...(receiverPipelines.get(r) ?? []), p.id]);
        let bySignal = receiverInputs.get(r);
        if (!bySignal) receiverInputs.set(r, (bySignal = new Map()));
        const list = bySignal.get(p.signal) ?? [];
        list.push(next);
        bySignal.set(p.signal, list);
      }
    }

    for (const [id, bySignal] of receiverInputs) {
      const c = config.receivers.get(id)!;
      const next: Partial<Record<Signal, Consumer>> = {};
      for (const [signal, list] of bySignal) next[signal] = fanOut(list);
      this.settings.metrics.declareReceiver(id, [...bySignal.keys()]);
      const instance = (c.factory as ReceiverFactory).create(
        this.settingsFor('receiver', id),
        c.config,
        next,
      );
      this.built.push({
        kind: 'receiver',
        id,
        signal: undefined,
        pipeline: undefined,
        pipelines: receiverPipelines.get(id) ?? [],
        instance,
      });
    }
  }

  /**
   * Starts extensions, then exporters, processors (last of each pipeline first) and receivers.
   * If one fails, what already started is shut down and the error is rethrown.
   */
  async start(): Promise<void> {
    if (this.state !== 'built') throw new Error(`cannot start a service that is ${this.state}`);
    this.state = 'starting';
    const order: BuiltComponent['kind'][] = ['extension', 'exporter', 'processor', 'receiver'];
    try {
      for (const kind of order) {
        // Processors were built last-to-first within each pipeline: start them in that order.
        for (const b of this.ofKind(kind)) {
          await b.instance.start(this);
          this.started.push(b);
        }
      }
    } catch (err) {
      this.settings.logger.error({ err }, 'start-up failed; stopping what was started');
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
   * Receivers first (no new data), then processors from the first of each pipeline to the last
   * (each flushes into the next, still running), then exporters in reverse start order (drain their
   * queues; an exporter feeding the others flushes into them first), extensions.
   * Runs once; safe before start.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.state = 'stopping';
    const started = new Set(this.started);
    const stop = async (list: BuiltComponent[]) => {
      for (const b of list) {
        if (!started.has(b)) continue;
        try {
          await b.instance.shutdown();
        } catch (err) {
          this.settings.logger.error({ err, component: `${b.kind}/${b.id}` }, 'shutdown failed');
        }
      }
    };
    await stop(this.ofKind('receiver'));
    await stop(this.ofKind('processor').reverse());
    await stop(this.ofKind('exporter').reverse());
    await stop(this.ofKind('extension').reverse());
    this.state = 'stopped';
  }

  /**
   * The components of one kind in start order. Exporters that feed the other exporters of their
   * pipelines (`feedsPipelineExporters`) come after those: started last, shut down first.
   */
  private ofKind(kind: BuiltComponent['kind']): BuiltComponent[] {
    const list = this.built.filter((b) => b.kind === kind);
    if (kind !== 'exporter') return list;
    const feeds = (b: BuiltComponent) => (b.instance as Exporter).feedsPipelineExporters === true;
    return [...list.filter((b) => !feeds(b)), ...list.filter(feeds)];
  }
}
