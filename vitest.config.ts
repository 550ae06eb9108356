import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Refuse a dist/ older than the sources (the CLI and worker threads run dist/); real Kafka /
    // HDFS: started on demand by test/integration/services.ts, stopped at the end by vitest-global.
    globalSetup: ['test/setup/dist-fresh.ts', 'test/services/vitest-global.ts'],
    // Every test file removes the temporary directories it made (test/helpers/tmp.ts).
    setupFiles: ['test/setup/temp-dirs.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
