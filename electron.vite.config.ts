/**
 * electron-vite build of the desktop app:
 *   src/main/index.ts      → out/main/index.js      (ESM; package.json has "type": "module")
 *   src/host/lab/worker.ts → out/main/lab_worker.js (the session worker thread)
 *   src/preload/index.ts   → out/preload/index.cjs  (CommonJS: a sandboxed preload cannot be ESM)
 *   src/renderer/index.html → out/renderer/
 * The CLI is built separately by `npm run build:cli` (esbuild).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config.js';

const root = import.meta.dirname;
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string };

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rolldownOptions: {
        // The lab's session worker sits beside the main bundle (src/host/lab/worker_client.ts looks there).
        input: { index: resolve(root, 'src/main/index.ts'), lab_worker: resolve(root, 'src/host/lab/worker.ts') },
      },
    },
  },
  preload: {
    define: {
      __XENLAB_VERSION__: JSON.stringify(pkg.version),
    },
    build: {
      outDir: resolve(root, 'out/preload'),
      rolldownOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: {
          format: 'cjs',
          entryFileNames: '[name].cjs',
          chunkFileNames: 'chunks/[name]-[hash].cjs',
        },
      },
    },
  },
  // Shared with the web mode's build (npm run build:web).
  renderer: rendererConfig,
});
