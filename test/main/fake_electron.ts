/**
 * A stand-in for the 'electron' module, which cannot run on these machines (no Electron binary).
 * It is the only thing faked in test/main and test/preload: every XenLab module under test is
 * the real one. It records what the app asks of Electron (window options, handlers, menus,
 * protocol handlers, sent messages) and lets a test play Electron's part (fire events, answer
 * dialogs, send IPC as a given frame).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserWindowConstructorOptions, CustomScheme, MenuItemConstructorOptions } from 'electron';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listeners of every Electron event shape
type Listener = (...args: any[]) => unknown;

export class Emitter {
  private readonly listeners = new Map<string, Listener[]>();
  on(name: string, listener: Listener): this {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
    return this;
  }
  once(name: string, listener: Listener): this {
    const once = (...args: unknown[]): unknown => {
      this.off(name, once);
      return listener(...args);
    };
    return this.on(name, once);
  }
  off(name: string, listener: Listener): this {
    this.listeners.set(name, (this.listeners.get(name) ?? []).filter((l) => l !== listener));
    return this;
  }
  emit(name: string, ...args: unknown[]): boolean {
    const listeners = this.listeners.get(name) ?? [];
    for (const listener of listeners) listener(...args);
    return listeners.length > 0;
  }
  listenerCount(name: string): number {
    return this.listeners.get(name)?.length ?? 0;
  }
}

/** An Electron event: preventDefault() is recorded. */
export function fakeEvent<T extends object>(fields?: T): T & { defaultPrevented: boolean; preventDefault(): void } {
  const event = {
    ...(fields as T),
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

let nextContentsId = 1;

export class FakeWebContents extends Emitter {
  readonly id = nextContentsId++;
  readonly sent: { channel: string; message: unknown }[] = [];
  destroyed = false;
  windowOpenHandler: ((details: { url: string }) => unknown) | undefined;
  send(channel: string, message: unknown): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, message });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => unknown): void {
    this.windowOpenHandler = handler;
  }
  /** The messages sent on a channel, in order. */
  messages(channel: string): unknown[] {
    return this.sent.filter((s) => s.channel === channel).map((s) => s.message);
  }
}

export class FakeDialog {
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** Answers, in order, for each kind of dialog. */
  openAnswers: { canceled: boolean; filePaths: string[] }[] = [];
  saveAnswers: { canceled: boolean; filePath?: string }[] = [];
  messageBoxSyncAnswers: number[] = [];
  messageBoxAnswers: number[] = [];
  showOpenDialog(...args: unknown[]): Promise<{ canceled: boolean; filePaths: string[] }> {
    this.calls.push({ method: 'showOpenDialog', args });
    return Promise.resolve(this.openAnswers.shift() ?? { canceled: true, filePaths: [] });
  }
  showSaveDialog(...args: unknown[]): Promise<{ canceled: boolean; filePath?: string }> {
    this.calls.push({ method: 'showSaveDialog', args });
    return Promise.resolve(this.saveAnswers.shift() ?? { canceled: true, filePath: '' });
  }
  showMessageBoxSync(...args: unknown[]): number {
    this.calls.push({ method: 'showMessageBoxSync', args });
    return this.messageBoxSyncAnswers.shift() ?? 1;
  }
  showMessageBox(...args: unknown[]): Promise<{ response: number; checkboxChecked: boolean }> {
    this.calls.push({ method: 'showMessageBox', args });
    return Promise.resolve({ response: this.messageBoxAnswers.shift() ?? 1, checkboxChecked: false });
  }
}

/** An IPC event as ipcMain.handle's listener gets it. */
export function ipcEvent(sender: FakeWebContents, frame: { url: string; parent: unknown } | null): unknown {
  return { sender, senderFrame: frame, processId: 1, frameId: 1 };
}

export class FakeIpcMain {
  readonly handlers = new Map<string, Listener>();
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, ...args) from `event`'s sender would get. */
  async invoke(channel: string, event: unknown, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
    return await handler(event, ...args);
  }
}

export class FakeSession extends Emitter {
  permissionRequestHandler: Listener | undefined;
  permissionCheckHandler: Listener | undefined;
  devicePermissionHandler: Listener | undefined;
  beforeRequest: Listener | undefined;
  headersReceived: Listener | undefined;
  readonly webRequest = {
    onBeforeRequest: (listener: Listener) => {
      this.beforeRequest = listener;
    },
    onHeadersReceived: (listener: Listener) => {
      this.headersReceived = listener;
    },
  };
  setPermissionRequestHandler(handler: Listener): void {
    this.permissionRequestHandler = handler;
  }
  setPermissionCheckHandler(handler: Listener): void {
    this.permissionCheckHandler = handler;
  }
  setDevicePermissionHandler(handler: Listener): void {
    this.devicePermissionHandler = handler;
  }
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;

const everyFake: { windows: { destroy(): void }[] }[] = [];

/** Closes every window of every fake made so far (their lab hosts close with them). */
export function closeAllWindows(): void {
  for (const fake of everyFake) for (const window of fake.windows) window.destroy();
}

/** A fresh fake 'electron' module: app, BrowserWindow, ipcMain, dialog, Menu, protocol, session. */
export function createFakeElectron(options: { singleInstance?: boolean; isPackaged?: boolean } = {}) {
  let ready = false;
  let resolveReady: () => void = () => {};
  const whenReady = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  class App extends Emitter {
    isPackaged = options.isPackaged ?? false;
    private paths: string | undefined;
    name = 'xenlab';
    appUserModelId: string | undefined;
    /** Whether enableSandbox() was called, and whether that was before 'ready'. */
    sandboxEnabledBeforeReady: boolean | undefined;
    quitCalled = false;
    exitCode: number | undefined;
    readonly recentDocuments: string[] = [];
    setName(name: string): void {
      this.name = name;
    }
    getName(): string {
      return this.name;
    }
    setAppUserModelId(id: string): void {
      this.appUserModelId = id;
    }
    enableSandbox(): void {
      this.sandboxEnabledBeforeReady = !ready;
    }
    requestSingleInstanceLock(): boolean {
      return options.singleInstance ?? true;
    }
    quit(): void {
      this.quitCalled = true;
    }
    exit(code: number): void {
      this.exitCode = code;
    }
    whenReady(): Promise<void> {
      return whenReady;
    }
    isReady(): boolean {
      return ready;
    }
    getVersion(): string {
      return '0.1.0';
    }
    /** A fresh temporary folder stands for userData, home, documents... */
    getPath(name: string): string {
      this.paths ??= mkdtempSync(join(tmpdir(), 'xenlab-fake-electron-'));
      return join(this.paths, name);
    }
    getAppPath(): string {
      return '/fake/app';
    }
    addRecentDocument(path: string): void {
      this.recentDocuments.push(path);
    }
    /** Plays Electron becoming ready; resolves once the app's 'ready' work has run. */
    async becomeReady(): Promise<void> {
      ready = true;
      resolveReady();
      this.emit('ready');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const app = new App();

  const windows: FakeBrowserWindowType[] = [];
  let focused: FakeBrowserWindowType | null = null;
  const focusWindow = (window: FakeBrowserWindowType | null): void => {
    focused = window;
  };

  class BrowserWindow extends Emitter {
    static getFocusedWindow(): BrowserWindow | null {
      return focused;
    }
    static getAllWindows(): BrowserWindow[] {
      return windows.filter((w) => !w.destroyed);
    }
    readonly webContents = new FakeWebContents();
    readonly loaded: string[] = [];
    shown = false;
    minimized = false;
    destroyed = false;
    focusCount = 0;
    constructor(readonly options: BrowserWindowConstructorOptions) {
      super();
      windows.push(this);
      app.emit('web-contents-created', fakeEvent(), this.webContents);
    }
    loadURL(url: string): Promise<void> {
      this.loaded.push(url);
      return Promise.resolve();
    }
    show(): void {
      this.shown = true;
    }
    focus(): void {
      this.focusCount++;
      focusWindow(this);
      this.emit('focus');
    }
    isMinimized(): boolean {
      return this.minimized;
    }
    restore(): void {
      this.minimized = false;
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    destroy(): void {
      if (this.destroyed) return;
      this.destroyed = true;
      this.webContents.destroyed = true;
      if (focused === this) focused = null;
      this.emit('closed');
    }
    /** Plays the page finishing its load (did-finish-load). */
    finishLoad(): void {
      this.webContents.emit('did-finish-load', fakeEvent());
    }
  }
  type FakeBrowserWindowType = BrowserWindow;

  const protocol = {
    privileged: [] as CustomScheme[],
    handlers: new Map<string, (request: Request) => Promise<Response> | Response>(),
    registeredBeforeReady: undefined as boolean | undefined,
    registerSchemesAsPrivileged(schemes: CustomScheme[]): void {
      this.registeredBeforeReady = !ready;
      this.privileged.push(...schemes);
    },
    handle(scheme: string, handler: (request: Request) => Promise<Response> | Response): void {
      if (!ready) throw new Error('protocol.handle before ready');
      this.handlers.set(scheme, handler);
    },
  };

  const menu = {
    current: undefined as MenuItemConstructorOptions[] | undefined,
    builds: 0,
  };
  const Menu = {
    buildFromTemplate: (template: MenuItemConstructorOptions[]) => template,
    setApplicationMenu: (template: MenuItemConstructorOptions[]) => {
      menu.current = template;
      menu.builds++;
    },
  };

  const fake = {
    app,
    BrowserWindow,
    windows,
    focus: (window: BrowserWindow | null) => {
      focused = window;
    },
    ipcMain: new FakeIpcMain(),
    dialog: new FakeDialog(),
    Menu,
    menu,
    protocol,
    session: { defaultSession: new FakeSession() },
  };
  everyFake.push(fake);
  return fake;
}

/**
 * The object vi.mock('electron', ...) returns: each export read from `holder.current` when used,
 * so a test can put a fresh fake in place before importing src/main/index.ts again.
 */
export function electronModule(holder: { current: FakeElectron | undefined }): Record<string, unknown> {
  const pick = (name: keyof FakeElectron) => () => {
    if (holder.current === undefined) throw new Error('no fake Electron in place');
    return holder.current[name];
  };
  const module: Record<string, unknown> = {};
  for (const name of ['app', 'BrowserWindow', 'ipcMain', 'dialog', 'Menu', 'protocol', 'session'] as const) {
    Object.defineProperty(module, name, { get: pick(name), enumerable: true });
  }
  return module;
}

/**
 * Runs src/main/index.ts against `fake` (the test file must have
 * `vi.mock('electron', () => electronModule(holder))`), as if launched as
 * `xenlab-desktop ...argv` in `cwd`, with `env` added to process.env.
 */
export async function bootMain(
  holder: { current: FakeElectron | undefined },
  fake: FakeElectron,
  launch: { argv?: string[]; env?: Record<string, string | undefined> } = {},
): Promise<void> {
  const { vi } = await import('vitest');
  holder.current = fake;
  // Electron adds process.resourcesPath (where a packaged app's resources are); Node has none.
  (process as { resourcesPath?: string }).resourcesPath ??= '/opt/XenLab/resources';
  vi.resetModules();
  const savedArgv = process.argv;
  const savedEnv = { ...process.env };
  process.argv = ['/opt/XenLab/xenlab-desktop', ...(launch.argv ?? [])];
  for (const [name, value] of Object.entries(launch.env ?? {})) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    await import('../../src/main/index.js');
  } finally {
    process.argv = savedArgv;
    for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
    Object.assign(process.env, savedEnv);
  }
}
