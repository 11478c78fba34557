/**
 * The desktop shell (src/main/shell.ts): windows with one lab host each, IPC with sender checks,
 * events to their own window only, files from outside, the close guard, the menu and its recent
 * files, native dialogs. Electron is faked (./fake_electron.ts: it cannot run here); the lab host
 * is ./test_host.ts, since src/host/lab_host.ts is not on this branch.
 */
import type { BrowserWindow, MenuItemConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { HostError, IPC_EVENT, IPC_REQUEST } from '../../src/contract/api.js';
import { APP_ENTRY_URL, APP_ORIGIN } from '../../src/main/app_protocol.js';
import { mainWindowOptions } from '../../src/main/security.js';
import { LabShell, type ShellElectron } from '../../src/main/shell.js';
import { createFakeElectron, fakeEvent, ipcEvent, type FakeElectron, type FakeWebContents } from './fake_electron.js';
import { TestHost } from './test_host.js';

const PAGE = { url: `${APP_ORIGIN}/index.html`, parent: null };

interface Rig {
  fake: FakeElectron;
  shell: LabShell;
  hosts: TestHost[];
  logs: string[];
}

function rig(platform: NodeJS.Platform = 'linux'): Rig {
  const fake = createFakeElectron();
  const hosts: TestHost[] = [];
  const logs: string[] = [];
  const electron: ShellElectron = {
    newWindow: (options) => new fake.BrowserWindow(options) as unknown as BrowserWindow,
    focusedWindow: () => fake.BrowserWindow.getFocusedWindow() as unknown as BrowserWindow | null,
    ipcMain: fake.ipcMain as unknown as ShellElectron['ipcMain'],
    dialog: fake.dialog as unknown as ShellElectron['dialog'],
    setMenu: (template) => fake.Menu.setApplicationMenu(template),
    addRecentDocument: (path) => fake.app.addRecentDocument(path),
  };
  const shell = new LabShell(electron, {
    createLabHost: (options) => {
      const host = new TestHost(options);
      hosts.push(host);
      return host;
    },
    host: { mode: 'electron', version: '0.1.0', roots: [{ name: 'Examples', path: '/res/scenarios' }], dataDir: '/data' },
    preloadPath: '/app/out/preload/index.cjs',
    pageUrl: APP_ENTRY_URL,
    origins: [APP_ORIGIN],
    platform,
    appName: 'XenLab',
    devTools: false,
    home: '/home/ada',
    log: (message) => logs.push(message),
  });
  shell.start();
  return { fake, shell, hosts, logs };
}

function invoke(r: Rig, contents: FakeWebContents, frame: { url: string; parent: unknown } | null, message: unknown): Promise<unknown> {
  return r.fake.ipcMain.invoke(IPC_REQUEST, ipcEvent(contents, frame), message);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The menu item with this label, searched through every submenu. */
function menuItem(template: MenuItemConstructorOptions[] | undefined, label: string): MenuItemConstructorOptions {
  for (const item of template ?? []) {
    if (item.label === label) return item;
    if (Array.isArray(item.submenu)) {
      const found = (() => {
        try {
          return menuItem(item.submenu, label);
        } catch {
          return undefined;
        }
      })();
      if (found) return found;
    }
  }
  throw new Error(`no menu item '${label}'`);
}

function click(item: MenuItemConstructorOptions, window: unknown): void {
  (item.click as (menuItem: unknown, window: unknown, event: unknown) => void)({}, window, {});
}

describe('lab windows', () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });

  it('opens a window with the secure options, loads the app page and shows it when ready', () => {
    r.shell.openWindow();
    const [window] = r.fake.windows;
    expect(window?.options).toEqual(mainWindowOptions('/app/out/preload/index.cjs'));
    expect(window?.loaded).toEqual([APP_ENTRY_URL]);
    expect(window?.shown).toBe(false);
    window?.emit('ready-to-show');
    expect(window?.shown).toBe(true);
  });

  it('gives each window its own lab host, with native dialogs and the shared options', () => {
    r.shell.openWindow();
    r.shell.openWindow();
    expect(r.hosts).toHaveLength(2);
    expect(r.hosts[0]).not.toBe(r.hosts[1]);
    const options = r.hosts[0]!.options;
    expect(options).toMatchObject({ mode: 'electron', version: '0.1.0', dataDir: '/data', roots: [{ name: 'Examples', path: '/res/scenarios' }] });
    expect(typeof options.dialogs?.pickOpen).toBe('function');
    expect(r.shell.windowCount).toBe(2);
  });

  it('closes the host and stops its events when the window goes', async () => {
    r.shell.openWindow();
    const [window] = r.fake.windows;
    const host = r.hosts[0]!;
    expect(host.listenerCount()).toBeGreaterThan(0);
    window!.destroy();
    await tick();
    expect(host.closed).toBe(true);
    expect(host.listenerCount()).toBe(0);
    expect(r.shell.windowCount).toBe(0);
    // A late request from the gone window's contents reaches no host.
    const answer = await invoke(r, window!.webContents, PAGE, { name: 'app.info', params: {} });
    expect(answer).toMatchObject({ ok: false, error: { code: 'denied' } });
    expect(host.requests).toHaveLength(0);
  });
});

describe('a lab host that cannot start', () => {
  it('closes its window and says why, without a crash', async () => {
    const r = rig();
    (r.shell as unknown as { config: { createLabHost: () => never } }).config.createLabHost = () => {
      throw new Error("cannot create /data: permission denied");
    };
    expect(r.shell.openWindow()).toBeUndefined();
    expect(r.fake.windows[0]?.destroyed).toBe(true);
    expect(r.shell.windowCount).toBe(0);
    await tick();
    const [options] = r.fake.dialog.calls.at(-1)!.args as [{ message: string; detail: string }];
    expect(options).toMatchObject({ message: 'The lab could not start.', detail: 'cannot create /data: permission denied' });
  });
});

describe('IPC requests', () => {
  let r: Rig;
  let contents: FakeWebContents;
  let host: TestHost;
  beforeEach(() => {
    r = rig();
    r.shell.openWindow();
    contents = r.fake.windows[0]!.webContents;
    host = r.hosts[0]!;
    host.answers.set('session.topology', () => ({ domains: [], channels: [] }));
  });

  it("pass from the app's page to the window's host and answer { ok: true, result }", async () => {
    const answer = await invoke(r, contents, PAGE, { name: 'session.topology', params: {} });
    expect(answer).toEqual({ ok: true, result: { domains: [], channels: [] } });
    expect(host.requests).toEqual([{ name: 'session.topology', params: {} }]);
  });

  it.each([
    ['file://', { url: 'file:///app/out/renderer/index.html', parent: null }],
    ['another site', { url: 'http://evil.example/', parent: null }],
    ['a look-alike host', { url: 'app://xenlab.evil/index.html', parent: null }],
    ['a subframe of the app', { url: `${APP_ORIGIN}/index.html`, parent: { url: `${APP_ORIGIN}/index.html` } }],
    ['a frame that is gone', null],
  ])('from %s are refused, logged, and never reach the host', async (_what, frame) => {
    const answer = await invoke(r, contents, frame, { name: 'session.topology', params: {} });
    expect(answer).toEqual({ ok: false, error: { code: 'denied', message: expect.any(String) as string } });
    expect(host.requests).toHaveLength(0);
    expect(r.logs.some((l) => l.includes('refused IPC'))).toBe(true);
  });

  it('from web contents that are not a lab window are refused', async () => {
    const answer = await invoke(r, new (await import('./fake_electron.js')).FakeWebContents(), PAGE, { name: 'session.topology', params: {} });
    expect(answer).toMatchObject({ ok: false, error: { code: 'denied' } });
    expect(host.requests).toHaveLength(0);
  });

  it('with a malformed message get bad-request without reaching the host', async () => {
    for (const message of [null, 'session.topology', { params: {} }, { name: 5 }, { name: 'x', params: [1] }, { name: 'x', params: 'p' }]) {
      const answer = await invoke(r, contents, PAGE, message);
      expect(answer, JSON.stringify(message)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    }
    expect(host.requests).toHaveLength(0);
  });

  it("answer the host's errors with their code and message", async () => {
    host.answers.set('files.write', () => {
      throw new HostError('conflict', 'scenario.yaml changed on disk since it was read');
    });
    host.answers.set('files.read', () => {
      throw new TypeError('boom');
    });
    expect(await invoke(r, contents, PAGE, { name: 'files.write', params: { path: '/x', text: '' } })).toEqual({
      ok: false,
      error: { code: 'conflict', message: 'scenario.yaml changed on disk since it was read' },
    });
    expect(await invoke(r, contents, PAGE, { name: 'files.read', params: { path: '/x' } })).toEqual({
      ok: false,
      error: { code: 'internal', message: 'the lab host failed: boom' },
    });
    expect(await invoke(r, contents, PAGE, { name: 'no.such', params: {} })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it('accept the dev server as the origin when the shell is told to', async () => {
    const dev = rig();
    (dev.shell as unknown as { config: { origins: string[] } }).config.origins = [APP_ORIGIN, 'http://localhost:5173'];
    dev.shell.openWindow();
    dev.hosts[0]!.answers.set('session.topology', () => ({ domains: [], channels: [] }));
    const answer = await invoke(dev, dev.fake.windows[0]!.webContents, { url: 'http://localhost:5173/', parent: null }, { name: 'session.topology', params: {} });
    expect(answer).toMatchObject({ ok: true });
  });
});

describe('host events', () => {
  it('go to their own window only, as WireEvents on IPC_EVENT', () => {
    const r = rig();
    r.shell.openWindow();
    r.shell.openWindow();
    const [a, b] = r.fake.windows;
    const status = { state: 'paused', position: 3 } as never;
    r.hosts[0]!.emit('session.status', status);
    expect(a!.webContents.messages(IPC_EVENT)).toEqual([{ event: 'session.status', payload: status }]);
    expect(b!.webContents.messages(IPC_EVENT)).toEqual([]);
    r.hosts[1]!.emit('session.console', { domid: 1, data: 'aGk=' } as never);
    expect(b!.webContents.messages(IPC_EVENT)).toEqual([{ event: 'session.console', payload: { domid: 1, data: 'aGk=' } }]);
    expect(a!.webContents.messages(IPC_EVENT)).toHaveLength(1);
  });

  it('are dropped, not thrown, once the page is gone', () => {
    const r = rig();
    r.shell.openWindow();
    r.fake.windows[0]!.webContents.destroyed = true;
    expect(() => r.hosts[0]!.emit('session.status', {} as never)).not.toThrow();
  });
});

describe('files from outside (command line, second launch, open-file, recent)', () => {
  it('wait for the page to load, then arrive as app.openPath', () => {
    const r = rig();
    r.shell.openWindow(['/home/ada/boot.xenlab']);
    const window = r.fake.windows[0]!;
    expect(window.webContents.messages(IPC_EVENT)).toEqual([]);
    window.finishLoad();
    expect(window.webContents.messages(IPC_EVENT)).toEqual([{ event: 'app.openPath', payload: { path: '/home/ada/boot.xenlab' } }]);
    // A reload does not open it again.
    window.finishLoad();
    expect(window.webContents.messages(IPC_EVENT)).toHaveLength(1);
  });

  it('go to the focused window, restored and focused, without opening another', () => {
    const r = rig();
    r.shell.openWindow();
    r.shell.openWindow();
    const [a, b] = r.fake.windows;
    a!.finishLoad();
    b!.finishLoad();
    a!.focus();
    a!.minimized = true;
    r.shell.openPaths(['/tmp/run.xenrec']);
    expect(a!.webContents.messages(IPC_EVENT)).toEqual([{ event: 'app.openPath', payload: { path: '/tmp/run.xenrec' } }]);
    expect(b!.webContents.messages(IPC_EVENT)).toEqual([]);
    expect(a!.minimized).toBe(false);
    expect(r.fake.windows).toHaveLength(2);
  });

  it('open a window when there is none (macOS after the last window closed)', () => {
    const r = rig('darwin');
    r.shell.openPaths(['/Users/ada/a.xenlab']);
    expect(r.fake.windows).toHaveLength(1);
    r.fake.windows[0]!.finishLoad();
    expect(r.fake.windows[0]!.webContents.messages(IPC_EVENT)).toEqual([{ event: 'app.openPath', payload: { path: '/Users/ada/a.xenlab' } }]);
  });

  it('with no files just bring the window to the front (a second launch without arguments)', () => {
    const r = rig();
    r.shell.openWindow();
    r.shell.openPaths([]);
    expect(r.fake.windows).toHaveLength(1);
    expect(r.fake.windows[0]!.focusCount).toBe(1);
  });
});

describe('close guard', () => {
  it('asks "Discard unsaved changes?" when the page reports unsaved work, and closes only on Discard', () => {
    const r = rig();
    r.shell.openWindow();
    const contents = r.fake.windows[0]!.webContents;

    r.fake.dialog.messageBoxSyncAnswers.push(1); // Cancel
    const keep = fakeEvent();
    contents.emit('will-prevent-unload', keep);
    expect(keep.defaultPrevented).toBe(false); // the page's beforeunload wins: the window stays

    r.fake.dialog.messageBoxSyncAnswers.push(0); // Discard Changes
    const discard = fakeEvent();
    contents.emit('will-prevent-unload', discard);
    expect(discard.defaultPrevented).toBe(true); // beforeunload overridden: the window closes

    const [window, options] = r.fake.dialog.calls.at(-1)!.args as [unknown, { message: string; buttons: string[]; cancelId: number; defaultId: number }];
    expect(window).toBe(r.fake.windows[0]);
    expect(options.message).toBe('Discard unsaved changes?');
    expect(options.buttons[options.cancelId]).toBe('Cancel');
    expect(options.defaultId).toBe(options.cancelId);
  });
});

describe('menu', () => {
  it('sends menu.command to the window it was chosen in', () => {
    const r = rig();
    r.shell.openWindow();
    r.shell.openWindow();
    const [a, b] = r.fake.windows;
    click(menuItem(r.fake.menu.current, 'Step'), b);
    click(menuItem(r.fake.menu.current, 'Save'), b);
    expect(b!.webContents.messages(IPC_EVENT)).toEqual([
      { event: 'menu.command', payload: { command: 'session.step' } },
      { event: 'menu.command', payload: { command: 'file.save' } },
    ]);
    expect(a!.webContents.messages(IPC_EVENT)).toEqual([]);
  });

  it('with no window: New opens one, Open asks for a file and opens it in a new window', async () => {
    const r = rig('darwin');
    click(menuItem(r.fake.menu.current, 'New'), undefined);
    expect(r.fake.windows).toHaveLength(1);
    r.fake.windows[0]!.destroy();

    r.fake.dialog.openAnswers.push({ canceled: false, filePaths: ['/Users/ada/ring.yaml'] });
    click(menuItem(r.fake.menu.current, 'Open…'), undefined);
    await tick();
    expect(r.fake.windows).toHaveLength(2);
    r.fake.windows[1]!.finishLoad();
    expect(r.fake.windows[1]!.webContents.messages(IPC_EVENT)).toEqual([{ event: 'app.openPath', payload: { path: '/Users/ada/ring.yaml' } }]);
  });

  it('lists the recent files after a file is opened, and opens one when chosen', async () => {
    const r = rig();
    r.shell.openWindow();
    const window = r.fake.windows[0]!;
    window.finishLoad();
    window.focus();
    const host = r.hosts[0]!;
    expect(menuItem(r.fake.menu.current, 'No Recent Files').enabled).toBe(false);

    host.answers.set('files.read', () => ({ path: '/home/ada/labs/ipi.yaml', text: '', mtimeMs: 1, lang: 'yaml' }));
    host.answers.set('files.recent', () => ({ files: [{ path: '/home/ada/labs/ipi.yaml', openedAtMs: 1 }] }));
    await invoke(r, window.webContents, PAGE, { name: 'files.read', params: { path: '/home/ada/labs/ipi.yaml' } });
    await tick();

    expect(r.fake.app.recentDocuments).toEqual(['/home/ada/labs/ipi.yaml']);
    const recent = menuItem(r.fake.menu.current, 'ipi.yaml  —  ~/labs');
    click(recent, window);
    expect(window.webContents.messages(IPC_EVENT)).toContainEqual({ event: 'app.openPath', payload: { path: '/home/ada/labs/ipi.yaml' } });
  });

  it('opens a new window from File > New Window', () => {
    const r = rig();
    click(menuItem(r.fake.menu.current, 'New Window'), undefined);
    expect(r.fake.windows).toHaveLength(1);
  });
});

describe('native dialogs (the host\'s DialogProvider)', () => {
  it('pick a scenario to open with XenLab\'s filters, attached to the window', async () => {
    const r = rig();
    r.shell.openWindow();
    const dialogs = r.hosts[0]!.options.dialogs!;
    r.fake.dialog.openAnswers.push({ canceled: false, filePaths: ['/home/ada/x.xenlab'] });
    expect(await dialogs.pickOpen('scenario')).toBe('/home/ada/x.xenlab');
    const [window, options] = r.fake.dialog.calls[0]!.args as [unknown, { filters: { extensions: string[] }[]; properties: string[] }];
    expect(window).toBe(r.fake.windows[0]);
    expect(options.filters[0]!.extensions).toEqual(['xenlab', 'yaml', 'yml', 'ts']);
    expect(options.properties).toEqual(['openFile']);
    expect(await dialogs.pickOpen('recording')).toBeNull(); // cancelled
  });

  it('pick where to save, offering the suggested name\'s type first', async () => {
    const r = rig();
    r.shell.openWindow();
    const dialogs = r.hosts[0]!.options.dialogs!;
    r.fake.dialog.saveAnswers.push({ canceled: false, filePath: '/home/ada/boot.json' });
    expect(await dialogs.pickSave('trace', 'boot.json')).toBe('/home/ada/boot.json');
    const options = r.fake.dialog.calls[0]!.args[1] as { defaultPath: string; filters: { extensions: string[] }[] };
    expect(options.defaultPath).toBe('boot.json');
    expect(options.filters.map((f) => f.extensions)).toEqual([['json'], ['jsonl']]);
    r.fake.dialog.saveAnswers.push({ canceled: false, filePath: '' });
    expect(await dialogs.pickSave('scenario', 'new.yaml')).toBeNull();
  });
});

describe('a crashed page', () => {
  it('is offered a reload', async () => {
    const r = rig();
    r.shell.openWindow();
    const window = r.fake.windows[0]!;
    r.fake.dialog.messageBoxAnswers.push(0); // Reload
    window.webContents.emit('render-process-gone', fakeEvent(), { reason: 'crashed', exitCode: 139 });
    await tick();
    expect(window.loaded).toEqual([APP_ENTRY_URL, APP_ENTRY_URL]);
    expect(r.logs.some((l) => l.includes('crashed'))).toBe(true);
  });
});
