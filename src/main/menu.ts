/**
 * The application menu, as a template (plain data with click handlers): File, Edit, Run, View,
 * Help (and the app and Window menus on macOS). A chosen item becomes a `menu.command` event for
 * the focused window, so the page does what its own keyboard shortcuts do in web mode; the
 * accelerators are shown beside the items. Built by index.ts with Menu.buildFromTemplate.
 */
import { basename, dirname } from 'node:path';
import type { BaseWindow, MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../contract/api.js';
import { accelerator, COMMAND_KEYS } from '../contract/keys.js';
import type { RecentFile } from '../contract/files.js';

export interface MenuActions {
  /** A command for the page of `window` (undefined when no window has the focus). */
  command(command: MenuCommand, window: BaseWindow | undefined): void;
  /** File > Open Recent > a file. */
  openRecent(path: string, window: BaseWindow | undefined): void;
  /** File > New Window. */
  newWindow(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  appName: string;
  recent: readonly RecentFile[];
  /** Reload and the developer tools, in development only. */
  devTools: boolean;
  home?: string;
}

/** How many recent files the menu lists. */
export const RECENT_IN_MENU = 10;

interface CommandItem {
  label: string;
  command: MenuCommand;
}

const FILE_ITEMS: CommandItem[][] = [
  [
    { label: 'New', command: 'file.new' },
    { label: 'Open…', command: 'file.open' },
    { label: 'Open Recording…', command: 'file.openRecording' },
  ],
  [
    { label: 'Save', command: 'file.save' },
    { label: 'Save As…', command: 'file.saveAs' },
    { label: 'Export Trace…', command: 'file.exportTrace' },
  ],
];

/** The Run menu: the keys of a debugger (F5 run, F6 pause, F10 step). */
const RUN_ITEMS: CommandItem[] = [
  { label: 'Run', command: 'session.run' },
  { label: 'Pause', command: 'session.pause' },
  { label: 'Step', command: 'session.step' },
  { label: 'Step Back', command: 'session.stepBack' },
  { label: 'Reset', command: 'session.reset' },
];

const VIEW_ITEMS: CommandItem[] = [
  { label: 'Editor', command: 'view.editor' },
  { label: 'Consoles', command: 'view.consoles' },
  { label: 'Topology', command: 'view.topology' },
  { label: 'Events', command: 'view.events' },
  { label: 'Timeline', command: 'view.timeline' },
  { label: 'Inspector', command: 'view.inspector' },
  { label: 'Exercise', command: 'view.exercise' },
  { label: 'Problems', command: 'view.problems' },
];

const SEPARATOR: MenuItemConstructorOptions = { type: 'separator' };

function commandItem(item: CommandItem, actions: MenuActions): MenuItemConstructorOptions {
  // The page's own shortcut for the command (contract/keys.ts), so menu and page agree.
  const keys = COMMAND_KEYS[item.command];
  return {
    label: item.label,
    ...(keys === undefined ? {} : { accelerator: accelerator(keys) }),
    click: (_menuItem, window) => actions.command(item.command, window),
  };
}

/** A recent file's label: its name, then its folder (with ~ for the home folder). */
export function recentLabel(path: string, home?: string): string {
  let folder = dirname(path);
  if (home !== undefined && home !== '' && (folder === home || folder.startsWith(`${home}/`))) folder = `~${folder.slice(home.length)}`;
  return `${basename(path)}  —  ${folder}`;
}

function recentMenu(options: MenuOptions, actions: MenuActions): MenuItemConstructorOptions {
  const files = options.recent.slice(0, RECENT_IN_MENU);
  const submenu: MenuItemConstructorOptions[] =
    files.length === 0
      ? [{ label: 'No Recent Files', enabled: false }]
      : files.map((file) => ({ label: recentLabel(file.path, options.home), click: (_item, window) => actions.openRecent(file.path, window) }));
  return { label: 'Open Recent', submenu };
}

export function applicationMenu(options: MenuOptions, actions: MenuActions): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: `About ${options.appName}`, click: (_item, window) => actions.command('app.about', window) };
  const [openItems, saveItems] = FILE_ITEMS as [CommandItem[], CommandItem[]];

  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      ...openItems.map((item) => commandItem(item, actions)),
      recentMenu(options, actions),
      { label: 'New Window', accelerator: 'CmdOrCtrl+Shift+N', click: () => actions.newWindow() },
      SEPARATOR,
      ...saveItems.map((item) => commandItem(item, actions)),
      SEPARATOR,
      { role: 'close', label: 'Close Window' },
      ...(mac ? [] : [{ role: 'quit', label: 'Quit' } satisfies MenuItemConstructorOptions]),
    ],
  };
  const edit: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, SEPARATOR, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };
  const run: MenuItemConstructorOptions = { label: 'Run', submenu: RUN_ITEMS.map((item) => commandItem(item, actions)) };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...VIEW_ITEMS.map((item) => commandItem(item, actions)),
      SEPARATOR,
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      SEPARATOR,
      { role: 'togglefullscreen' },
      ...(options.devTools ? [SEPARATOR, { role: 'reload' } as const, { role: 'toggleDevTools' } as const] : []),
    ],
  };
  const help: MenuItemConstructorOptions = { role: 'help', submenu: [about] };

  if (!mac) return [file, edit, run, view, help];
  const appMenu: MenuItemConstructorOptions = {
    label: options.appName,
    submenu: [about, SEPARATOR, { role: 'services' }, SEPARATOR, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, SEPARATOR, { role: 'quit' }],
  };
  return [appMenu, file, edit, run, view, { role: 'windowMenu' }, help];
}
