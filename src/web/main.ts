/**
 * `npm run web`: the lab in a browser. Serves the built renderer and the
 * contract on 127.0.0.1 (a random port unless --port), prints the address
 * with its token, and runs until Ctrl-C.
 *
 *   node dist/web/xenlab-web.mjs [--port N] [--root DIR]... [--data DIR] [--renderer DIR]
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../host/lab/assets.js';
import { createLabHost } from '../host/lab_host.js';
import { startWebServer } from './server.js';

const HELP = `npm run web -- [--port N] [--root DIR]... [--data DIR] [--renderer DIR]

Serves XenLab's UI on 127.0.0.1 and prints its address (with a token: only a page opened
from it can use the lab).

  --port N        the port (default: a free one)
  --root DIR      a folder the page may open and save files in (repeatable; default: the
                  current folder and XenLab's example scenarios)
  --data DIR      where recent files and unsaved drafts are kept (default: ~/.local/share/xenlab)
  --renderer DIR  the built UI (default: out/renderer of the package; npm run web builds it)
`;

function fail(message: string): never {
  process.stderr.write(`xenlab web: ${message}\n`);
  process.exit(2);
}

function dataDir(given: string | undefined): string {
  if (given !== undefined) return resolve(given);
  const xdg = process.env.XDG_DATA_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'xenlab');
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        root: { type: 'string', multiple: true },
        data: { type: 'string' },
        renderer: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port expects a port number from 0 to 65535, found "${values.port}"`);
  const pkg = packageRoot();
  const rendererDir = resolve(values.renderer ?? join(pkg, 'out', 'renderer'));
  if (!existsSync(join(rendererDir, 'index.html'))) fail(`${rendererDir} holds no built UI (index.html): run "npm run build:web" first`);
  const roots = (values.root ?? [process.cwd(), join(pkg, 'scenarios')]).map((r, i) => {
    const path = resolve(r);
    if (!existsSync(path) || !statSync(path).isDirectory()) fail(`--root ${r}: not a folder`);
    return { name: values.root === undefined && i === 1 ? 'examples' : basename(path) || path, path };
  });
  const version = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const data = dataDir(values.data);
  let server;
  try {
    server = await startWebServer({ port, rendererDir, createHost: () => createLabHost({ mode: 'web', version, roots, dataDir: data }) });
  } catch (e) {
    fail(`cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`);
  }
  process.stdout.write(`XenLab ${version} in your browser:\n\n  ${server.url}\n\nFolders it may use: ${roots.map((r) => r.path).join(', ')}\nCtrl-C stops it.\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
