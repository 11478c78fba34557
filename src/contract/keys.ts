/**
 * The keyboard shortcut of each command the desktop menu and the page share, written as the page
 * writes them ('Ctrl' is Cmd on macOS). One table, so that the menu's accelerators, the page's
 * tooltips and menus, and the keys it handles say the same thing. Keys a browser keeps for itself
 * (Ctrl+N, Ctrl+T, Ctrl+W) are not used: the same page runs in web mode.
 */
import type { MenuCommand } from './api.js';

export const COMMAND_KEYS: Readonly<Partial<Record<MenuCommand, string>>> = {
  'file.new': 'Ctrl+Alt+N',
  'file.open': 'Ctrl+O',
  'file.openRecording': 'Ctrl+Shift+O',
  'file.save': 'Ctrl+S',
  'file.saveAs': 'Ctrl+Shift+S',
  'file.exportTrace': 'Ctrl+Shift+E',
  // A debugger's keys.
  'session.run': 'F5',
  'session.pause': 'F6',
  'session.step': 'F10',
  'session.stepBack': 'Shift+F10',
  'session.reset': 'Ctrl+Shift+F5',
  'view.editor': 'Ctrl+1',
  'view.consoles': 'Ctrl+2',
  'view.topology': 'Ctrl+3',
  'view.events': 'Ctrl+4',
  'view.timeline': 'Ctrl+5',
  'view.inspector': 'Ctrl+6',
  'view.exercise': 'Ctrl+7',
  'view.problems': 'Ctrl+8',
};

/** Electron's accelerator for a key of the table: Ctrl is CmdOrCtrl (Cmd on macOS). */
export function accelerator(keys: string): string {
  return keys.replace(/\bCtrl\+/, 'CmdOrCtrl+');
}
