import type { Clock } from '../../../../component/clock.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * Stops calling a model that keeps failing. Closed: requests go through; after
 * `failureThreshold` failures in a row it opens for `openMs`, and no request goes. Then one trial
 * request is let through (half open): its success closes the circuit, its failure opens it again
 * for another `openMs`.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trial = false;
  state: CircuitState = 'closed';

  constructor(
    private readonly failureThreshold: number,
    private readonly openMs: number,
    private readonly clock: Clock,
    private readonly onChange: (state: CircuitState) => void = () => undefined,
  ) {}

  /** Whether a request may go now (in half-open state, only the one trial). */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.clock.now() - this.openedAt < this.openMs) return false;
      this.set('half_open');
    }
    if (this.trial) return false;
    this.trial = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.trial = false;
    if (this.state !== 'closed') this.set('closed');
  }

  failure(): void {
    this.failures++;
    this.trial = false;
    if (this.state === 'half_open' || this.failures >= this.failureThreshold) {
      this.openedAt = this.clock.now();
      if (this.state !== 'open') this.set('open');
    }
  }

  private set(state: CircuitState): void {
    this.state = state;
    this.onChange(state);
  }
}
