#!/usr/bin/env node
// The `xenlab` command: runs the CLI bundle that `npm install` builds (npm run build:cli).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/cli/xenlab.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('xenlab: the CLI is not built yet; run `npm run build:cli` (npm install does it).\n');
  process.exit(2);
}
await import(bundle.href);
