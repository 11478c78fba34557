/**
 * The preload (src/preload): window.xenlab as the contract's HostApi, over IPC to the real main
 * process shell. Electron is faked (test/main/fake_electron.ts: ipcRenderer, ipcMain and
 * contextBridge cannot run here); the page's world is a separate realm (node:vm), into which
 * installXenlab is passed as source text, as contextBridge.executeInMainWorld does. The lab host
 * is test/main/test_host.ts (src/host/lab_host.ts is not on this branch).
 */
import { createContext, runInContext, type Context } from 'node:vm';
import type { BrowserWindow } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HostError, IPC_EVENT, IPC_REQUEST, type HostApi } from '../../src/contract/api.js';
import { APP_ENTRY_URL, APP_ORIGIN } from '../../src/main/app_protocol.js';
import { LabShell, type ShellElectron } from '../../src/main/shell.js';
import { createIsolatedBridge, installXenlab, MAX_HELD_EVENTS, type IsolatedBridge } from '../../src/preload/bridge.js';
import { createFakeElectron, Emitter, ipcEvent, type FakeElectron } from '../main/fake_electron.js';
import { TestHost } from '../main/test_host.js';

type Listener = (...args: unknown[]) => void;

/** ipcRenderer of the page in `window`, wired to the fake ipcMain and to the window's sends. */
function ipcRendererFor(fake: FakeElectron, window: InstanceType<FakeElectron['BrowserWindow']>, frame = { url: `${APP_ORIGIN}/index.html`, parent: null }) {
  const renderer = new Emitter();
  const contents = window.webContents;
  const send = contents.send.bind(contents);
  contents.send = (channel: string, message: unknown) => {
    send(channel, message);
    renderer.emit(channel, {}, message);
  };
  return {
    invoke: (channel: string, ...args: unknown[]) => fake.ipcMain.invoke(channel, ipcEvent(contents, frame), ...args),
    on: (channel: string, listener: Listener) => renderer.on(channel, listener),
  };
}

/** A page's world: its own globals, with window.xenlab installed from installXenlab's source text. */
function pageWorld(bridge: IsolatedBridge): Context & { xenlab: HostApi & { version: string } } {
  const world = createContext({});
  const install = runInContext(`(${installXenlab.toString()})`, world) as typeof installXenlab;
  install(bridge);
  return world as Context & { xenlab: HostApi & { version: string } };
}

interface Rig {
  fake: FakeElectron;
  host: TestHost;
  page: Context & { xenlab: HostApi & { version: string } };
  window: InstanceType<FakeElectron['BrowserWindow']>;
}

function rig(): Rig {
  const fake = createFakeElectron();
  const hosts: TestHost[] = [];
  const electron: ShellElectron = {
    newWindow: (options) => new fake.BrowserWindow(options) as unknown as BrowserWindow,
    focusedWindow: () => null,
    ipcMain: fake.ipcMain as unknown as ShellElectron['ipcMain'],
    dialog: fake.dialog as unknown as ShellElectron['dialog'],
    setMenu: () => {},
    addRecentDocument: () => {},
  };
  const shell = new LabShell(electron, {
    createLabHost: (options) => {
      const host = new TestHost(options);
      hosts.push(host);
      return host;
    },
    host: { mode: 'electron', version: '0.1.0', roots: [], dataDir: '/data' },
    preloadPath: '/p.cjs',
    pageUrl: APP_ENTRY_URL,
    origins: [APP_ORIGIN],
    platform: 'linux',
    appName: 'XenLab',
    devTools: false,
    log: () => {},
  });
  shell.start();
  shell.openWindow();
  const window = fake.windows[0]!;
  const page = pageWorld(createIsolatedBridge(ipcRendererFor(fake, window) as never, '0.1.0'));
  return { fake, host: hosts[0]!, page, window };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('window.xenlab', () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });

  it('is the HostApi and the version, frozen, and nothing else', () => {
    const xenlab = r.page.xenlab;
    expect(Object.keys(xenlab).sort()).toEqual(['on', 'request', 'version']);
    expect(xenlab.version).toBe('0.1.0');
    expect(Object.isFrozen(xenlab)).toBe(true);
    // The page cannot replace or delete it.
    expect(runInContext('"use strict"; try { xenlab = {}; "replaced" } catch { "kept" }', r.page)).toBe('kept');
    expect(runInContext('delete globalThis.xenlab', r.page)).toBe(false);
    expect(r.page.xenlab).toBe(xenlab);
  });

  it('request() resolves with the result the host gave', async () => {
    r.host.answers.set('session.topology', () => ({ domains: [{ domid: 0 }], channels: [] }));
    await expect(r.page.xenlab.request('session.topology', {})).resolves.toEqual({ domains: [{ domid: 0 }], channels: [] });
    expect(r.host.requests).toEqual([{ name: 'session.topology', params: {} }]);
  });

  it("request() rejects with the page's own Error carrying the HostErrorCode", async () => {
    r.host.answers.set('files.write', () => {
      throw new HostError('io', 'cannot write /ro/x.yaml: permission denied');
    });
    const error = (await r.page.xenlab.request('files.write', { path: '/ro/x.yaml', text: 'x' }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error).toBeInstanceOf(runInContext('Error', r.page) as ErrorConstructor);
    expect(error.name).toBe('HostError');
    expect(error.code).toBe('io');
    expect(error.message).toBe('cannot write /ro/x.yaml: permission denied');
  });

  it('request() checks its arguments before anything is sent', async () => {
    const request = (name: unknown, params: unknown) => r.page.xenlab.request(name as 'app.info', params as never);
    for (const [name, params] of [
      [42, {}],
      ['', {}],
      ['session.topology', [1, 2]],
      ['session.topology', 'x'],
      ['session.topology', null],
    ] as const) {
      await expect(request(name, params)).rejects.toMatchObject({ name: 'HostError', code: 'bad-request' });
    }
    expect(r.host.requests).toHaveLength(0);
  });

  it('on() delivers host events for this window until unsubscribed', () => {
    const seen: unknown[] = [];
    const off = r.page.xenlab.on('session.status', (status) => seen.push(status));
    r.host.emit('session.status', { state: 'running' } as never);
    off();
    r.host.emit('session.status', { state: 'paused' } as never);
    expect(seen).toEqual([{ state: 'running' }]);
  });

  it('on() refuses unknown events and non-function listeners', () => {
    const on = (name: unknown, listener: unknown) => r.page.xenlab.on(name as 'session.status', listener as () => void);
    expect(() => on('session.nope', () => {})).toThrow(/unknown event 'session.nope'/);
    expect(() => on('__proto__', () => {})).toThrow(/unknown event/);
    expect(() => on('session.status', 'alert(1)')).toThrow(/listener must be a function/);
  });

  it('a failing listener does not keep the others from their event', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: string[] = [];
    r.page.xenlab.on('session.failure', () => {
      throw new Error('listener bug');
    });
    r.page.xenlab.on('session.failure', () => seen.push('second'));
    r.host.emit('session.failure', { message: 'x' } as never);
    expect(seen).toEqual(['second']);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });

  it('holds app.openPath until the page listens, then delivers it once', async () => {
    r.window.webContents.send(IPC_EVENT, { event: 'app.openPath', payload: { path: '/a.xenlab' } });
    r.window.webContents.send(IPC_EVENT, { event: 'menu.command', payload: { command: 'file.save' } });
    const paths: unknown[] = [];
    const commands: unknown[] = [];
    r.page.xenlab.on('menu.command', (c) => commands.push(c));
    r.page.xenlab.on('app.openPath', (p) => paths.push(p));
    expect(paths).toEqual([]); // after on() has returned
    await tick();
    expect(paths).toEqual([{ path: '/a.xenlab' }]);
    expect(commands).toEqual([]); // a menu command for a page that was not listening is dropped
    r.page.xenlab.on('app.openPath', (p) => paths.push(p));
    await tick();
    expect(paths).toHaveLength(1);
  });

  it('ignores malformed messages on the event channel', () => {
    const seen: unknown[] = [];
    r.page.xenlab.on('session.status', (s) => seen.push(s));
    for (const message of [null, 'session.status', { event: 'session.nope', payload: 1 }, { payload: 1 }]) r.window.webContents.send(IPC_EVENT, message);
    expect(seen).toEqual([]);
  });
});

describe('the isolated bridge', () => {
  it('turns a malformed answer or a failed invoke into an internal error', async () => {
    const answers: unknown[] = [{ ok: true }, { ok: false, error: { code: 'teapot', message: 'x' } }, 'ok'];
    const bridge = createIsolatedBridge(
      {
        invoke: (channel: string) => (channel === IPC_REQUEST && answers.length > 0 ? Promise.resolve(answers.shift()) : Promise.reject(new Error("No handler registered for 'xenlab:request'"))),
        on: () => {},
      } as never,
      '0.1.0',
    );
    for (let i = 0; i < 3; i++) await expect(bridge.invoke('app.info', {})).resolves.toMatchObject({ ok: false, error: { code: 'internal', message: "the main process sent a malformed answer to 'app.info'" } });
    await expect(bridge.invoke('app.info', {})).resolves.toEqual({ ok: false, error: { code: 'internal', message: "the request 'app.info' did not reach the lab: No handler registered for 'xenlab:request'" } });
  });

  it('holds at most MAX_HELD_EVENTS events for a page that never listens', async () => {
    const renderer = new Emitter();
    const bridge = createIsolatedBridge({ invoke: () => Promise.reject(new Error('x')), on: (c: string, l: Listener) => renderer.on(c, l) } as never, '0');
    for (let i = 0; i < MAX_HELD_EVENTS + 10; i++) renderer.emit(IPC_EVENT, {}, { event: 'app.openPath', payload: { path: `/f${i}` } });
    const seen: unknown[] = [];
    bridge.on('app.openPath', (p) => seen.push(p));
    await tick();
    expect(seen).toHaveLength(MAX_HELD_EVENTS);
  });
});

describe('src/preload/index.ts', () => {
  const electron = vi.hoisted(() => ({ module: {} as Record<string, unknown> }));
  vi.mock('electron', () => ({
    get contextBridge() {
      return electron.module['contextBridge'];
    },
    get ipcRenderer() {
      return electron.module['ipcRenderer'];
    },
  }));

  /** Loads the preload; `executeInMainWorld` plays Electron's, given the page's world. */
  async function loadPreload(executeInMainWorld: (script: { func: (...args: unknown[]) => unknown; args?: unknown[] }, world: Context) => unknown) {
    const world = createContext({});
    const exposed: Record<string, unknown> = {};
    const sent: unknown[][] = [];
    electron.module = {
      contextBridge: { executeInMainWorld: (script: never) => executeInMainWorld(script, world), exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
      ipcRenderer: {
        invoke: (...args: unknown[]) => {
          sent.push(args);
          return Promise.resolve({ ok: false, error: { code: 'not-found', message: 'no such file' } });
        },
        on: () => {},
      },
    };
    (globalThis as { __XENLAB_VERSION__?: string }).__XENLAB_VERSION__ = '9.9.9';
    vi.resetModules();
    await import('../../src/preload/index.js');
    return { world, exposed, sent };
  }

  it('installs window.xenlab in the page world through executeInMainWorld, from source text', async () => {
    const loaded = await loadPreload((script, world) => {
      const func = runInContext(`(${script.func.toString()})`, world) as (...args: unknown[]) => unknown;
      return func(...(script.args ?? []));
    });
    const xenlab = (loaded.world as { xenlab: HostApi & { version: string } }).xenlab;
    expect(xenlab.version).toBe('9.9.9');
    await expect(xenlab.request('files.read', { path: '/x' })).rejects.toMatchObject({ code: 'not-found', message: 'no such file' });
    expect(loaded.sent).toEqual([[IPC_REQUEST, { name: 'files.read', params: { path: '/x' } }]]);
    expect(loaded.exposed).toEqual({});
  });

  it('falls back to exposeInMainWorld (errors without code) if executeInMainWorld fails', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const loaded = await loadPreload(() => {
      throw new Error('executeInMainWorld is not available');
    });
    const xenlab = loaded.exposed['xenlab'] as HostApi & { version: string };
    expect(Object.keys(xenlab).sort()).toEqual(['on', 'request', 'version']);
    await expect(xenlab.request('files.read', { path: '/x' })).rejects.toThrow('no such file');
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });
});
