import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds the session worker bundle from the current sources before any test runs.
    globalSetup: ['test/global_setup.ts'],
    watch: false,
    // CLI tests start node processes; on a busy 2-core machine one can take seconds.
    testTimeout: 30_000,
    // CI prints a plain "N passed, N failed" line from the JSON report.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'out/test-results.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'], environment: 'node', sequence: { groupOrder: 0 } },
      },
      {
        // The browser tests run after the others, one file at a time: Chromium, the web server and
        // the simulation would otherwise compete with the CLI tests' processes for the same cores.
        // A failed browser test runs once more, as Playwright's own runner does on CI: a loaded
        // 2-core machine can starve a page for a moment; a real failure fails twice.
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', fileParallelism: false, sequence: { groupOrder: 1 }, retry: 1 },
      },
    ],
  },
});
