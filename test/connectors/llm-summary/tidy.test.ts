import { describe, expect, it } from 'vitest';
import {
  MAX_SUMMARY_CHARS,
  tidyCompletion,
} from '../../../src/connectors/llm-summary/internal/writing/tidy.js';

describe('tidying a completion', () => {
  it.each([
    ['  The payments service was slow.  \n', 'The payments service was slow.'],
    ['Summary: payments was slow.', 'payments was slow.'],
    ['"payments was slow."', 'payments was slow.'],
    [
      'Payments was slow. Payments was slow. Payments was slow. CPU was 0.1%.',
      'Payments was slow. CPU was 0.1%.',
    ],
    [
      'Check the database.\nCheck the database.\nThen payments.',
      'Check the database.\nThen payments.',
    ],
    ['A. B. A.', 'A. B. A.'],
    [
      'CPU was 0.1%, not the cause. CPU was 0.1%, not the cause. See v1.2 notes.',
      'CPU was 0.1%, not the cause. See v1.2 notes.',
    ],
  ])('%j', (input, output) => {
    expect(tidyCompletion(input)).toBe(output);
  });

  it('cuts a run-on answer at a sentence end', () => {
    const long = Array.from({ length: 400 }, (_, i) => `Sentence ${i} is here.`).join(' ');
    const out = tidyCompletion(long);
    expect(out.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(out.endsWith('is here.')).toBe(true);
  });
});
