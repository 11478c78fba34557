/** Where the e2e tests find Chromium: $CHROMIUM_PATH, else Debian's (the binary behind /usr/bin/chromium's wrapper script, which prints a warning). */
import { existsSync } from 'node:fs';

export function findChromium(): string | undefined {
  const env = process.env.CHROMIUM_PATH;
  if (env !== undefined && env !== '') return existsSync(env) ? env : undefined;
  for (const p of ['/usr/lib/chromium/chromium', '/usr/bin/chromium']) if (existsSync(p)) return p;
  return undefined;
}
