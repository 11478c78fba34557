/**
 * The desktop shell: lab windows, each with its own lab host; the IPC entry point with its
 * sender check; files to open from outside; the menu and its Open Recent list; the close guard.
 *
 * Electron reaches it only through `ShellElectron` (index.ts passes the real modules), so
 * test/main/shell.test.ts drives it in Node with fake windows, IPC and dialogs.
 */
import type {
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Dialog,
  IpcMain,
  IpcMainInvokeEvent,
  MenuItemConstructorOptions,
  WebContents,
} from 'electron';
import { IPC_EVENT, IPC_REQUEST, type MenuCommand, type Params, type WireEvent } from '../contract/api.js';
import type { IpcResponse } from '../contract/bridge.js';
import type { RecentFile } from '../contract/files.js';
import { confirmDiscardUnsaved, nativeDialogs } from './dialogs.js';
import { OPEN_FILTERS } from './file_kinds.js';
import type { CreateLabHost, LabHostLike, LabHostOptions } from './host_port.js';
import { answerRequest, forwardEvents } from './ipc_bridge.js';
import { applicationMenu } from './menu.js';
import { isTrustedIpcSender, mainWindowOptions } from './security.js';

/** The parts of Electron the shell uses. */
export interface ShellElectron {
  newWindow(options: BrowserWindowConstructorOptions): BrowserWindow;
  focusedWindow(): BrowserWindow | null;
  ipcMain: Pick<IpcMain, 'handle'>;
  dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog' | 'showMessageBoxSync' | 'showMessageBox'>;
  /** Menu.setApplicationMenu(Menu.buildFromTemplate(template)). */
  setMenu(template: MenuItemConstructorOptions[]): void;
  /** app.addRecentDocument: the OS's own recent list (macOS Dock, Windows jump list). */
  addRecentDocument(path: string): void;
}

export interface ShellConfig {
  createLabHost: CreateLabHost;
  /** What every window's host gets (its dialogs are added per window). */
  host: Omit<LabHostOptions, 'dialogs'>;
  preloadPath: string;
  /** app://xenlab/index.html, or the dev server's URL under `electron-vite dev`. */
  pageUrl: string;
  /** Origins IPC may come from (security.ts trustedOrigins). */
  origins: readonly string[];
  platform: NodeJS.Platform;
  appName: string;
  devTools: boolean;
  home?: string;
  log: (message: string) => void;
}

interface LabWindow {
  window: BrowserWindow;
  contents: WebContents;
  host: LabHostLike;
  stopEvents: () => void;
  loaded: boolean;
  /** Files to open once the page has loaded. */
  pending: string[];
}

/** Requests after which the recent files may have changed (the menu's list is refreshed). */
const TOUCHES_RECENT = new Set(['files.read', 'files.write', 'session.open', 'session.openRecording', 'session.saveRecording']);
/** Requests whose `path` is a file the user opened or saved (the OS's recent list). */
const OPENS_OR_SAVES = new Set(['files.read', 'files.write', 'session.openRecording']);

export class LabShell {
  private readonly windows = new Map<number, LabWindow>();
  private recent: RecentFile[] = [];
  private lastFocused: BrowserWindow | undefined;

  constructor(
    private readonly electron: ShellElectron,
    private readonly config: ShellConfig,
  ) {}

  /** Installs the IPC handler and the menu; call once, after 'ready'. */
  start(): void {
    this.electron.ipcMain.handle(IPC_REQUEST, (event, message: unknown) => this.onRequest(event, message));
    this.buildMenu();
  }

  /**
   * Opens a lab window; `paths` are opened in it once its page has loaded. If its lab host cannot
   * start (its data folder unwritable, say), the window is not shown and a message says why.
   */
  openWindow(paths: readonly string[] = []): BrowserWindow | undefined {
    const window = this.electron.newWindow(mainWindowOptions(this.config.preloadPath));
    const contents = window.webContents;
    const id = contents.id;
    let host: LabHostLike;
    try {
      host = this.config.createLabHost({ ...this.config.host, dialogs: nativeDialogs(this.electron.dialog, window) });
    } catch (error) {
      window.destroy();
      const why = error instanceof Error ? error.message : String(error);
      this.config.log(`XenLab: the lab could not start: ${why}`);
      void this.electron.dialog.showMessageBox({ type: 'error', title: 'XenLab', message: 'The lab could not start.', detail: why, buttons: ['Close'] });
      return undefined;
    }
    const lab: LabWindow = {
      window,
      contents,
      host,
      stopEvents: forwardEvents(host, (message) => this.send(lab, message)),
      loaded: false,
      pending: [...paths],
    };
    this.windows.set(id, lab);
    this.lastFocused = window;

    window.once('ready-to-show', () => window.show());
    window.on('focus', () => {
      this.lastFocused = window;
    });
    window.on('closed', () => this.forget(id));
    contents.on('did-finish-load', () => {
      lab.loaded = true;
      this.flushPending(lab);
    });
    // The page's beforeunload handler says there is unsaved work: ask before losing it.
    contents.on('will-prevent-unload', (event) => {
      if (confirmDiscardUnsaved(this.electron.dialog, window)) event.preventDefault();
    });
    contents.on('render-process-gone', (_event, details) => this.onPageGone(lab, details.reason));
    this.load(lab);
    return window;
  }

  /** Files from outside (command line, second launch, OS open-file): into the focused window, or a new one. */
  openPaths(paths: readonly string[]): void {
    const lab = this.targetWindow();
    if (lab === undefined) {
      this.openWindow(paths);
      return;
    }
    lab.pending.push(...paths);
    this.flushPending(lab);
    if (lab.window.isMinimized()) lab.window.restore();
    lab.window.focus();
  }

  /** How many lab windows are open. */
  get windowCount(): number {
    return this.windows.size;
  }

  private load(lab: LabWindow): void {
    lab.window.loadURL(this.config.pageUrl).catch((error: unknown) => {
      this.config.log(`XenLab: could not load the page ${this.config.pageUrl}: ${String(error)}`);
    });
  }

  private targetWindow(): LabWindow | undefined {
    const focused = this.electron.focusedWindow() ?? this.lastFocused;
    const byWindow = [...this.windows.values()].find((lab) => lab.window === focused);
    return byWindow ?? [...this.windows.values()].at(-1);
  }

  private send(lab: LabWindow, message: WireEvent): void {
    if (!lab.contents.isDestroyed()) lab.contents.send(IPC_EVENT, message);
  }

  private flushPending(lab: LabWindow): void {
    if (!lab.loaded) return;
    for (const path of lab.pending.splice(0)) this.send(lab, { event: 'app.openPath', payload: { path } });
  }

  private forget(id: number): void {
    const lab = this.windows.get(id);
    if (lab === undefined) return;
    this.windows.delete(id);
    if (this.lastFocused === lab.window) this.lastFocused = undefined;
    lab.stopEvents();
    lab.host.close().catch((error: unknown) => this.config.log(`XenLab: closing a lab host failed: ${String(error)}`));
  }

  /** IPC_REQUEST: from the top frame of a lab window's own page only; anything else is refused and logged. */
  private async onRequest(event: IpcMainInvokeEvent, message: unknown): Promise<IpcResponse> {
    const refused: IpcResponse = { ok: false, error: { code: 'denied', message: 'requests are accepted only from the XenLab page' } };
    if (!isTrustedIpcSender(event.senderFrame, this.config.origins, this.config.log)) return refused;
    const lab = this.windows.get(event.sender.id);
    if (lab === undefined) {
      this.config.log(`XenLab: refused IPC from web contents ${event.sender.id}: not a lab window`);
      return refused;
    }
    const response = await answerRequest(lab.host, message);
    if (response.ok) this.afterRequest(lab, message as { name: string; params?: Record<string, unknown> });
    return response;
  }

  private afterRequest(lab: LabWindow, message: { name: string; params?: Record<string, unknown> }): void {
    const path = message.params?.['path'];
    if (OPENS_OR_SAVES.has(message.name) && typeof path === 'string') this.electron.addRecentDocument(path);
    if (TOUCHES_RECENT.has(message.name)) void this.refreshRecent(lab.host);
  }

  private async refreshRecent(host: LabHostLike): Promise<void> {
    try {
      const { files } = await host.request('files.recent', {} as Params<'files.recent'>);
      this.recent = files;
      this.buildMenu();
    } catch (error) {
      this.config.log(`XenLab: could not read the recent files: ${String(error)}`);
    }
  }

  private buildMenu(): void {
    const { platform, appName, devTools, home } = this.config;
    const template = applicationMenu(
      { platform, appName, devTools, recent: this.recent, ...(home === undefined ? {} : { home }) },
      {
        command: (command, window) => this.onMenuCommand(command, window),
        openRecent: (path) => this.openPaths([path]),
        newWindow: () => this.openWindow(),
      },
    );
    this.electron.setMenu(template);
  }

  /** A menu command goes to the window it was chosen in (Electron passes the focused one). */
  private onMenuCommand(command: MenuCommand, window: unknown): void {
    const lab = window === undefined ? undefined : ([...this.windows.values()].find((l) => l.window === window) ?? this.targetWindow());
    if (lab !== undefined) {
      this.send(lab, { event: 'menu.command', payload: { command } });
      return;
    }
    // No window (macOS keeps running without one): New opens one; Open asks for the file first.
    if (command === 'file.new') this.openWindow();
    else if (command === 'file.open' || command === 'file.openRecording') void this.openFromDialog(command === 'file.open' ? 'scenario' : 'recording');
  }

  private async openFromDialog(kind: 'scenario' | 'recording'): Promise<void> {
    const chosen = await this.electron.dialog.showOpenDialog({ filters: OPEN_FILTERS[kind], properties: ['openFile'] });
    const path = chosen.canceled ? undefined : chosen.filePaths[0];
    if (path !== undefined) this.openWindow([path]);
  }

  private onPageGone(lab: LabWindow, reason: string): void {
    this.config.log(`XenLab: the page's process ended (${reason})`);
    if (reason === 'clean-exit' || lab.window.isDestroyed()) return;
    lab.loaded = false;
    void this.electron.dialog
      .showMessageBox(lab.window, {
        type: 'error',
        title: 'XenLab',
        message: 'The lab window stopped unexpectedly.',
        detail: `Reason: ${reason}. Reload the window to go on.`,
        buttons: ['Reload', 'Close Window'],
        defaultId: 0,
        cancelId: 1,
        noLink: true,
      })
      .then(({ response }) => {
        if (lab.window.isDestroyed()) return;
        if (response === 0) this.load(lab);
        else lab.window.destroy();
      });
  }
}
