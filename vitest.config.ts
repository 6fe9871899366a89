import { defineConfig } from 'vitest/config';

// One runner for everything. Forks keep each test file in its own process so a wasm heap never
// leaks across files. Two files at a time: vitest's default (cores - 1) is one on the 2-core CI
// machine, where much of the suite waits on browsers, child processes, Slurm and grace periods
// rather than computing, so a second file fills that time (11.7 min against about 13 in one run).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
