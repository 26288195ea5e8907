import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Network tests bind real servers on port 0; files run in parallel processes.
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // Enforced by `vitest run --coverage` (.ci/run): just under the figures measured when the
      // threshold was set (issue 12: 92% of lines, 79% of branches), so that a change that drops
      // coverage fails CI.
      thresholds: { lines: 90, branches: 77 },
    },
  },
});
