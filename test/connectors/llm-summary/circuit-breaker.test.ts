import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  type CircuitState,
} from '../../../src/connectors/llm-summary/internal/providers/circuit-breaker.js';
import { FakeClock } from '../../helpers/fake-clock.js';

describe('circuit breaker', () => {
  it('opens after the threshold of failures in a row, tries once after the wait, closes on success', () => {
    const clock = new FakeClock();
    const changes: CircuitState[] = [];
    const b = new CircuitBreaker(3, 60_000, clock, (s) => changes.push(s));
    for (let i = 0; i < 2; i++) {
      expect(b.allow()).toBe(true);
      b.failure();
    }
    b.success(); // a success in between resets the count
    for (let i = 0; i < 3; i++) {
      expect(b.allow()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    clock.advance(59_999);
    expect(b.allow()).toBe(false);
    clock.advance(1);
    expect(b.allow()).toBe(true); // the one trial
    expect(b.state).toBe('half_open');
    expect(b.allow()).toBe(false); // while the trial is under way
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed trial opens it again for the whole wait', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(1, 10_000, clock);
    b.failure();
    clock.advance(10_000);
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    clock.advance(9_999);
    expect(b.allow()).toBe(false);
    clock.advance(1);
    expect(b.allow()).toBe(true);
  });
});
