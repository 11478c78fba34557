import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the session worker bundle from the current sources before any test runs.
    globalSetup: ['test/global_setup.ts'],
    environment: 'node',
    watch: false,
    // CI prints a plain "N passed, N failed" line from the JSON report.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'out/test-results.json' }]] : ['default'],
  },
});
