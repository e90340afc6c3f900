import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the Temporal tests against a production-shaped cluster (the server on
 * PostgreSQL, 4 history shards, SQL visibility, mutual TLS), started once by
 * test/cluster/global-setup.ts. A first run on a machine builds the server (10 to 47 minutes on two cores).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/cluster/global-setup.ts'],
    include: [
      // The cluster's own tests.
      'test/cluster/**/*.test.ts',
      // Existing Temporal tests, unchanged: workflows and the multi-process worker tests.
      'test/workflows/rollout.test.ts',
      'test/workflows/device.test.ts',
      'test/workflows/abort.test.ts',
      'test/workflows/failure-budget.test.ts',
      'test/workflows/credentials.test.ts',
      'test/reliability/workers.test.ts',
      'test/reliability/crash.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 30 * 60_000,
    maxWorkers: 1,
    fileParallelism: false,
    reporters: ['default'],
  },
});
