/**
 * Files named on a command line: the first launch's, or a second launch's (handed over by the
 * single-instance lock), or what a desktop environment passes for a double-clicked file
 * (a path, or a file:// URI for launchers that use %U).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The paths in `argv` from `firstArg` on (1 in a packaged app, where argv[0] is the app; 2 under
 * `electron .`, where argv[1] is the app's folder), resolved against `cwd`. Switches (-x, --x,
 * including those Chromium adds) are skipped; after `--` everything is a path. Each path once.
 */
export function pathsFromArgv(argv: readonly string[], cwd: string, firstArg: number): string[] {
  const paths: string[] = [];
  let switches = true;
  for (const arg of argv.slice(firstArg)) {
    if (switches && arg === '--') {
      switches = false;
      continue;
    }
    if (arg === '' || (switches && arg.startsWith('-'))) continue;
    const path = toPath(arg, cwd);
    if (path !== null && !paths.includes(path)) paths.push(path);
  }
  return paths;
}

function toPath(arg: string, cwd: string): string | null {
  if (/^file:/i.test(arg)) {
    try {
      return fileURLToPath(arg);
    } catch {
      return null;
    }
  }
  // Some other URL (xenlab://, http://...): not a file this app opens.
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(arg)) return null;
  return resolve(cwd, arg);
}
