import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Time is a budget, not an assertion (speed is measured by bench/): the slowest tests take
    // 18 s on a loaded 2-vCPU machine, so a budget of 30 s left too little room on CI's.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Network tests bind real servers on port 0; files run in parallel processes.
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // Enforced by `npm test -- --coverage` (.ci/run): issue 12's figures, just under what the
      // whole suite measured from a clean clone when the threshold was set (lines 92.8%, branches
      // 80.0%), so that a change that drops coverage fails CI.
      thresholds: { lines: 92, branches: 79 },
    },
  },
});
