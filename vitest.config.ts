import { defineConfig } from 'vitest/config';

// One runner for everything. Engine tests load tfjs-wasm, which is single-threaded in Node;
// forks keep each test file in its own process so a wasm heap never leaks across files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
