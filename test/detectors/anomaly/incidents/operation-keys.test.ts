import { describe, expect, it } from 'vitest';
import { OperationKeys } from '../../../../src/detectors/anomaly/incidents/operation-keys.js';

describe('OperationKeys', () => {
  it('gives `service \\0 operation`, the same string for the same pair, before and after it starts over', () => {
    const keys = new OperationKeys(3);
    const a = keys.of('checkout', 'POST /charge');
    expect(a).toBe('checkout\u0000POST /charge');
    expect(keys.of('checkout', 'POST /charge')).toBe(a);
    // A pair is not confused with another whose parts join to the same text.
    expect(keys.of('checkout\u0000POST', ' /charge')).toBe('checkout\u0000POST\u0000 /charge');
    expect(keys.of('checkout', 'POST')).toBe('checkout\u0000POST');
    for (let k = 0; k < 10; k++) expect(keys.of(`s${k}`, 'op')).toBe(`s${k}\u0000op`);
    expect(keys.of('checkout', 'POST /charge')).toBe(a);
  });
});
