import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests run real processes; two files at a time is what a 2-core machine bears.
    maxWorkers: 2,
  },
});
