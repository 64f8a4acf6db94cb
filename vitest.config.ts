import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests run real processes; two files at a time is what a 2-core machine bears.
    maxWorkers: 2,
    setupFiles: ['test/setup-state-dir.ts'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/chaos/**', 'test/backends/**'], sequence: { groupOrder: 0 } } },
      // Real redis-server/etcd and up to five node processes per test, with sub-second bounds: alone, after main.
      { extends: true, test: { name: 'backends', include: ['test/backends/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000, hookTimeout: 60_000, sequence: { groupOrder: 1 } } },
      // The chaos lab saturates a CPU and measures timing on real processes: it runs alone, after the rest.
      { extends: true, test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000, sequence: { groupOrder: 2 } } },
    ],
  },
});
