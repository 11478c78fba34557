/**
 * Builds what the tests run as separate processes or threads from the current sources, so a
 * targeted `npx vitest run test/host/...` never runs a stale bundle: the lab's session worker
 * (dist/host/lab_worker.mjs, as `npm run build:host` makes it).
 */
import { build } from 'esbuild';
import { join } from 'node:path';

export async function setup(): Promise<void> {
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
}
