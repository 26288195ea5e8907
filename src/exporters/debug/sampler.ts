import type { Clock } from '../../component/clock.js';

/**
 * Per second of the clock: the first `initial` calls say yes, then one in every `thereafter`
 * (the Collector's debug exporter samples its output the same way).
 */
export class Sampler {
  private second = -1;
  private count = 0;

  constructor(
    private readonly clock: Clock,
    private readonly initial: number,
    private readonly thereafter: number,
  ) {}

  sample(): boolean {
    const second = Math.floor(this.clock.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.count = 0;
    }
    const n = ++this.count;
    return n <= this.initial || (n - this.initial) % this.thereafter === 0;
  }
}
