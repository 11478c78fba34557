/**
 * The renderer's Vite configuration, shared by the desktop build (electron.vite.config.ts's
 * `renderer`) and the web mode's build (npm run build:web: vite build --config this file).
 *   src/renderer/index.html → out/renderer/
 */
import { resolve } from 'node:path';
import type { UserConfig } from 'vite';

const root = import.meta.dirname;

export const rendererConfig: UserConfig = {
  root: resolve(root, 'src/renderer'),
  // Relative asset URLs: the same build loads from the web server and from the desktop app's scheme.
  base: './',
  build: {
    outDir: resolve(root, 'out/renderer'),
    emptyOutDir: true,
    // electron-vite leaves the renderer unminified by default; Monaco is twice the size then.
    minify: true,
    // Monaco is large by nature; it is split into its own chunk and loaded after the shell.
    chunkSizeWarningLimit: 8000,
    rolldownOptions: {
      input: { index: resolve(root, 'src/renderer/index.html') },
    },
  },
  // Monaco's and monaco-yaml's workers are ES modules.
  worker: { format: 'es' },
  // The dev server would otherwise discover the YAML worker late and reload mid-test (TOOLCHAIN.md).
  optimizeDeps: { include: ['monaco-yaml/yaml.worker.js'] },
};

export default rendererConfig;
