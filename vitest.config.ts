import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The native Temporal core and the worker's own threads need real processes, not vitest threads.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // test/cluster/ runs against a real cluster: `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: ['**/node_modules/**', 'test/cluster/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
