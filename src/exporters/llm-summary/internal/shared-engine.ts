import type { Host } from '../../../component/component.js';
import type { SummaryEngine } from '../summary-engine.js';

/**
 * One engine per exporter id, shared by its traces and metrics instances (one held-trace buffer,
 * one metrics window, one model client). Started by the first instance, shut down by the last.
 */
export class SharedEngine {
  private users = 0;
  private starting: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly engine: SummaryEngine,
  ) {}

  acquire(host: Host): Promise<void> {
    this.users++;
    this.starting ??= this.engine.start(host);
    return this.starting;
  }

  async release(): Promise<void> {
    if (--this.users > 0) return;
    await this.starting?.catch(() => undefined);
    await this.engine.shutdown();
  }
}
