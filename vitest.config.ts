import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Refuse a dist/ older than the sources (the CLI and worker threads run dist/).
    globalSetup: ['test/setup/dist-fresh.ts'],
    // Every test file removes the temporary directories it made (test/helpers/tmp.ts).
    setupFiles: ['test/setup/temp-dirs.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Real Kafka / HDFS (test/services/): started on demand by test/integration/services.ts,
        // stopped by the globalSetup's teardown if this run started them. These files run one at
        // a time, after the unit tests: some stop a service for a while, and timing tests should
        // not share two cores with the unit suite.
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/services/vitest-global.ts'],
          // One file at a time (fileParallelism is not a per-project option): a single fork.
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
