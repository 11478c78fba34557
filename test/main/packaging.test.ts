/**
 * The installers' configuration (electron-builder.yml) and the real packaging step.
 *
 * The Electron binary cannot be downloaded here, so the packing runs with a stub in its place
 * (`-c.electronDist`): a shell script that carries Electron's fuse wire, a version file, a
 * LICENSE and two locales. Everything else is real: electron-vite builds the app, electron-builder
 * packs it into app.asar beside the stub, flips the fuses in the stub, drops unused locales and
 * copies the example scenarios. The test then reads the archive, and runs the packed production
 * dependencies and the packed preload in Node to see that what the app needs is in it.
 * Installers themselves (AppImage, deb, NSIS, dmg) are built only on real machines: docs/packaging.md.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { compileFunction, createContext, runInContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPEN_FILTERS, RECORDING_ASSOCIATION, SCENARIO_ASSOCIATION } from '../../src/main/file_kinds.js';
import { APP_ID, APP_NAME } from '../../src/main/identity.js';

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;

interface BuilderConfig {
  appId: string;
  productName: string;
  asar: boolean;
  npmRebuild: boolean;
  files: string[];
  extraResources: { from: string; to: string }[];
  electronLanguages: string[];
  electronFuses: Record<string, boolean>;
  fileAssociations: { ext: string; name: string; mimeType: string; role: string; rank: string }[];
  linux: { target: string[]; executableName: string; category: string };
  win: { target: string[] };
  nsis: { perMachine: boolean; oneClick: boolean };
  mac: { target: string[]; category: string; hardenedRuntime: boolean };
}

const config = parse(readFileSync(join(repo, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string;
  main: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Packages the renderer imports (src/renderer/**): Vite bundles them, so they must not be runtime dependencies. */
function rendererPackages(): string[] {
  const found = new Set<string>(['monaco-editor', 'monaco-yaml', '@xterm/xterm', '@xterm/addon-fit', '@xterm/addon-search', '@xterm/addon-webgl']);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js|mjs|css)$/.test(entry.name)) {
        for (const [, spec] of readFileSync(path, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'".][^'"]*)['"]/g)) {
          const parts = spec!.split('/');
          found.add(spec!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
        }
      }
    }
  };
  walk(join(repo, 'src/renderer'));
  return [...found];
}

describe('electron-builder.yml', () => {
  it('names the app as the code does', () => {
    expect(config.appId).toBe(APP_ID);
    expect(config.productName).toBe(APP_NAME);
  });

  it('builds AppImage and deb on Linux, NSIS on Windows, dmg on macOS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.category).toBe('public.app-category.education');
    expect(config.mac.hardenedRuntime).toBe(true);
  });

  it("does not take the CLI's name for the Linux executable", () => {
    expect(config.linux.executableName).not.toBe('xenlab');
  });

  it("associates XenLab's own extensions, not .yaml or .json, and the open dialogs offer them", () => {
    expect(config.fileAssociations.map((a) => a.ext)).toEqual([SCENARIO_ASSOCIATION, RECORDING_ASSOCIATION]);
    for (const association of config.fileAssociations) {
      expect(['yaml', 'yml', 'json', 'ts', 'js', 'txt', 'jsonl']).not.toContain(association.ext);
      expect(association.mimeType).toMatch(/^application\/x-xenlab-/);
      expect(association.name).toMatch(/^XenLab /);
      expect(association.rank).toBe('Owner');
    }
    expect(OPEN_FILTERS.scenario[0]!.extensions).toContain(SCENARIO_ASSOCIATION);
    expect(OPEN_FILTERS.recording[0]!.extensions).toContain(RECORDING_ASSOCIATION);
    // NSIS registers associations only for a per-machine install.
    expect(config.nsis.perMachine).toBe(true);
  });

  it('sets every Electron fuse the app relies on', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('packs only the built app and what its host reads into asar, with the example scenarios beside it', () => {
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(false);
    expect(config.files.filter((f) => !f.startsWith('!'))).toEqual([
      'out/main/**',
      'out/preload/**',
      'out/renderer/**',
      'package.json',
      // src/host/lab/assets.ts reads these beside package.json: the default scenario, the schema, the typings.
      'scenarios/**',
      'schema/scenario.schema.json',
      'types/xenlab-scenario.d.ts',
    ]);
    expect(config.files).toContain('!**/*.map');
    expect(config.extraResources).toEqual([{ from: 'scenarios', to: 'scenarios', filter: ['**/*'] }]);
    expect(pkg.main).toBe('out/main/index.js');
  });

  it('keeps renderer libraries and the build tools out of "dependencies"', () => {
    const runtime = Object.keys(pkg.dependencies);
    for (const name of [...rendererPackages(), 'electron', 'electron-vite', 'electron-builder', 'vite']) {
      expect(runtime, name).not.toContain(name);
    }
    // electron-builder refuses an app whose electron is a runtime dependency.
    expect(pkg.devDependencies['electron']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('has an icon of at least 512×512 (electron-builder makes .icns and .ico from it)', () => {
    const png = readFileSync(join(repo, 'build/icon.png'));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
  });

  it('is what npm run dist uses, never publishing', () => {
    for (const script of ['dist', 'dist:linux', 'dist:win', 'dist:mac']) {
      expect(pkg.scripts[script], script).toMatch(/^electron-vite build && electron-builder\b.*--publish never/);
    }
  });
});

// ---- the real packaging step, with a stub Electron ----

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Fuse order in Electron's fuse wire (v1), as @electron/fuses numbers them. */
const FUSES = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
];
/** Electron's own defaults ('1' on, '0' off): the stub starts with them, so every change shows. */
const ELECTRON_DEFAULT_WIRE = '10110001';

function stubElectron(dir: string): void {
  mkdirSync(join(dir, 'locales'), { recursive: true });
  const wire = `${SENTINEL}\x01${String.fromCharCode(FUSES.length)}${ELECTRON_DEFAULT_WIRE}`;
  writeFileSync(join(dir, 'electron'), `#!/bin/sh\n# A stand-in for Electron's binary (packaging test). Fuse wire: ${wire}\nexit 0\n`);
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'version'), pkg.devDependencies['electron']!);
  cpSync(join(repo, 'node_modules/electron/LICENSE'), join(dir, 'LICENSE'));
  writeFileSync(join(dir, 'locales', 'en-US.pak'), 'en');
  writeFileSync(join(dir, 'locales', 'de.pak'), 'de');
}

/** The fuses written in a binary, by name. */
function fuseWire(binary: string): Record<string, boolean> {
  const bytes = readFileSync(binary);
  const at = bytes.indexOf(SENTINEL) + SENTINEL.length;
  const length = bytes[at + 1]!;
  return Object.fromEntries(FUSES.slice(0, length).map((name, i) => [name, bytes[at + 2 + i] === 0x31]));
}

/** Mirrors a folder with hard links (copies where linking fails), keeping symlinks as they are. */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (entry.isDirectory()) linkTree(source, target);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

interface AsarEntry {
  size: number;
  offset: string;
}

/** The files in an asar archive: path → entry (the header is a JSON tree after two pickled lengths). */
function readAsar(file: string): { files: Map<string, AsarEntry>; bytes: Buffer; dataStart: number } {
  const bytes = readFileSync(file);
  const headerSize = bytes.readUInt32LE(4);
  const jsonLength = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.subarray(16, 16 + jsonLength).toString('utf8')) as { files: Record<string, unknown> };
  const files = new Map<string, AsarEntry>();
  const walk = (node: { files?: Record<string, unknown> }, prefix: string): void => {
    for (const [name, child] of Object.entries(node.files ?? {})) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      if ((child as { files?: unknown }).files !== undefined) walk(child as { files: Record<string, unknown> }, path);
      else files.set(path, child as AsarEntry);
    }
  };
  walk(header, '');
  return { files, bytes, dataStart: 8 + headerSize };
}

function extractAsar(file: string, to: string): void {
  const { files, bytes, dataStart } = readAsar(file);
  for (const [path, entry] of files) {
    const start = dataStart + Number(entry.offset);
    mkdirSync(dirname(join(to, path)), { recursive: true });
    writeFileSync(join(to, path), bytes.subarray(start, start + entry.size));
  }
}

describe('packing the app (electron-builder --dir --linux, stub Electron)', () => {
  let work: string;
  let unpacked: string;
  let asar: ReturnType<typeof readAsar>;
  let extracted: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'xenlab-pack-'));
    const project = join(work, 'project');
    const stub = join(work, 'electron-dist');
    mkdirSync(project);
    stubElectron(stub);
    for (const name of ['package.json', 'electron-builder.yml', 'build', 'scenarios']) cpSync(join(repo, name), join(project, name), { recursive: true });
    // A real node_modules tree (hard links, or copies across file systems): electron-builder asks
    // npm for the production dependencies, and npm does not follow a symlinked node_modules.
    linkTree(join(repo, 'node_modules'), join(project, 'node_modules'));
    copyFileSync(join(repo, 'package-lock.json'), join(project, 'package-lock.json'));
    const bin = (name: string) => join(repo, 'node_modules/.bin', name);
    await run(bin('electron-vite'), ['build', '--outDir', join(project, 'out'), '--logLevel', 'warn'], { cwd: repo });
    await run(bin('electron-builder'), ['--dir', '--linux', '--publish', 'never', `-c.electronDist=${stub}`, `-c.directories.output=${join(project, 'release')}`], {
      cwd: project,
      env: { ...process.env, CI: 'true' },
    });
    unpacked = join(project, 'release', 'linux-unpacked');
    asar = readAsar(join(unpacked, 'resources', 'app.asar'));
    extracted = join(work, 'app');
    extractAsar(join(unpacked, 'resources', 'app.asar'), extracted);
    const size = statSync(join(unpacked, 'resources', 'app.asar')).size;
    console.log(`app.asar: ${(size / 2 ** 20).toFixed(1)} MiB, ${asar.files.size} files`);
  }, 180_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('puts the executable under its Linux name, with the fuses flipped', () => {
    const binary = join(unpacked, config.linux.executableName);
    expect(existsSync(binary)).toBe(true);
    expect(fuseWire(binary)).toEqual(config.electronFuses);
  });

  it('keeps only the English locale', () => {
    expect(readdirSync(join(unpacked, 'locales'))).toEqual(['en-US.pak']);
  });

  it('ships the example scenarios beside the archive', () => {
    expect(readdirSync(join(unpacked, 'resources', 'scenarios'))).toContain('plan9-boot.yaml');
  });

  it('archives the built main process, preload and page, and package.json', () => {
    for (const path of ['package.json', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']) expect(asar.files.has(path), path).toBe(true);
    const paths = [...asar.files.keys()];
    expect(paths.filter((p) => /^(src|test|docs|scripts|bench|build)\//.test(p) || p.endsWith('.map'))).toEqual([]);
  });

  it('holds every runtime dependency and no renderer library or build tool', () => {
    const packages = new Set([...asar.files.keys()].filter((p) => p.startsWith('node_modules/')).map((p) => {
      const parts = p.split('/');
      return parts[1]!.startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1]!;
    }));
    for (const name of Object.keys(pkg.dependencies)) expect(packages.has(name), name).toBe(true);
    for (const name of [...rendererPackages(), 'electron', 'vite', 'electron-vite', 'electron-builder', 'vitest']) expect(packages.has(name), name).toBe(false);
  });

  it('stays small (it was 144 MB when renderer libraries were runtime dependencies)', () => {
    // About 12 MiB of renderer (Monaco and its workers, xterm, the UI) and 9 MiB of TypeScript's transpiler.
    const bytes = [...asar.files.values()].reduce((sum, f) => sum + f.size, 0);
    expect(bytes).toBeLessThan(32 * 2 ** 20);
  });

  it("the packed dependencies do the host's work: TypeScript transpiles, QuickJS runs, yaml and ws load", async () => {
    const sandboxSource = readFileSync(join(repo, 'src/host/sandbox.ts'), 'utf8');
    const variant = /@jitl\/(quickjs-wasmfile-[a-z-]+)\/wasm/.exec(sandboxSource)?.[1];
    expect(variant).toBe('quickjs-wasmfile-release-sync');
    writeFileSync(
      join(extracted, 'probe.mjs'),
      `import ts from 'typescript';
       import { newQuickJSWASMModuleFromVariant, RELEASE_SYNC } from 'quickjs-emscripten';
       import { parse } from 'yaml';
       import { WebSocketServer } from 'ws';
       import { createRequire } from 'node:module';
       const out = ts.transpileModule('const n: number = 41 + 1; export default n;', { compilerOptions: { module: ts.ModuleKind.ESNext } }).outputText;
       const quickjs = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
       const vm = quickjs.newContext();
       const two = vm.getNumber(vm.unwrapResult(vm.evalCode('1 + 1')));
       vm.dispose();
       const wasm = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten')).resolve('@jitl/${variant}/wasm');
       console.log(JSON.stringify({ out, two, yaml: parse('a: [1, 2]'), ws: typeof WebSocketServer, wasm: wasm.startsWith(${JSON.stringify(extracted)}) }));`,
    );
    const { stdout } = await run(process.execPath, [join(extracted, 'probe.mjs')], { cwd: extracted });
    expect(JSON.parse(stdout)).toEqual({ out: expect.stringContaining('const n = 41 + 1;') as string, two: 2, yaml: { a: [1, 2] }, ws: 'function', wasm: true });
  }, 30_000);

  it('the packed preload installs window.xenlab in the page world (as the bundler left installXenlab)', async () => {
    const world = createContext({});
    const invoked: unknown[] = [];
    const electron = {
      contextBridge: {
        executeInMainWorld: ({ func, args }: { func: (...a: unknown[]) => unknown; args: unknown[] }) =>
          (runInContext(`(${func.toString()})`, world) as (...a: unknown[]) => unknown)(...args),
        exposeInMainWorld: () => {
          throw new Error('the fallback should not be needed');
        },
      },
      ipcRenderer: {
        invoke: (...args: unknown[]) => {
          invoked.push(args);
          return Promise.resolve({ ok: false, error: { code: 'no-session', message: 'open a scenario first' } });
        },
        on: () => {},
      },
    };
    const source = readFileSync(join(extracted, 'out/preload/index.cjs'), 'utf8');
    const preload = compileFunction(source, ['require', 'module', 'exports']) as (r: (n: string) => unknown, m: object, e: object) => void;
    preload((name) => (name === 'electron' ? electron : undefined), { exports: {} }, {});
    const xenlab = (world as { xenlab?: { version: string; request(n: string, p: object): Promise<unknown> } }).xenlab;
    expect(xenlab?.version).toBe(pkg.version);
    await expect(xenlab?.request('session.topology', {})).rejects.toMatchObject({ name: 'HostError', code: 'no-session' });
    expect(invoked).toEqual([['xenlab:request', { name: 'session.topology', params: {} }]]);
  });
});
