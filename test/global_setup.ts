/**
 * Builds what the tests run as separate processes or threads from the current sources, so a
 * targeted `npx vitest run test/host/...` never runs a stale bundle: the lab's session worker
 * (dist/host/lab_worker.mjs, as `npm run build:host` makes it). Says plainly whether the e2e
 * tests (test/e2e) will run in a Chromium or be skipped.
 */
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findChromium } from './e2e/chromium.js';

export async function setup(): Promise<void> {
  // Each vitest project (unit, e2e) asks for the setup: do it once.
  const g = globalThis as { __xenlabSetUp?: boolean };
  if (g.__xenlabSetUp) return;
  g.__xenlabSetUp = true;
  const root = join(import.meta.dirname, '..');
  await build({
    entryPoints: [join(root, 'src/host/lab/worker.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    outfile: join(root, 'dist/host/lab_worker.mjs'),
    logLevel: 'warning',
  });
  const chromium = findChromium();
  if (chromium === undefined) {
    console.log('\ne2e: SKIPPED — no Chromium found (set CHROMIUM_PATH, or install Debian\'s: apt-get install -y chromium). The test/e2e tests will be reported as skipped.\n');
  } else if (!existsSync(join(root, 'out/renderer/index.html'))) {
    console.log(`\ne2e: running in ${chromium}, but the UI is not built (npm run build:web): the e2e tests will fail.\n`);
  } else console.log(`\ne2e: running in ${chromium} against the web mode (out/renderer).\n`);
}
