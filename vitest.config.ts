import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    watch: false,
    // CLI tests start node processes; on a busy 2-core machine one can take seconds.
    testTimeout: 30_000,
    // CI prints a plain "N passed, N failed" line from the JSON report.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'out/test-results.json' }]] : ['default'],
  },
});
