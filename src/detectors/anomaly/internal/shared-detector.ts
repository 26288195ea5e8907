import type { AnomalyDetector } from '../detector.js';

/**
 * One detector per processor id, shared by every pipeline that lists the id (as the Collector
 * shares components): one set of baselines and one SQLite writer. Started by the first pipeline
 * instance, shut down (flushed) by the last.
 */
export class SharedDetector {
  private users = 0;
  private starting: Promise<void> | undefined;

  constructor(readonly detector: AnomalyDetector) {}

  acquire(): Promise<void> {
    this.users++;
    this.starting ??= this.detector.start();
    return this.starting;
  }

  async release(): Promise<void> {
    if (--this.users > 0) return;
    await this.starting?.catch(() => undefined);
    await this.detector.shutdown();
  }
}
