/** The application menu's template (src/main/menu.ts): items, accelerators, platforms. No Electron here. */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { MenuCommand } from '../../src/contract/api.js';
import { accelerator, COMMAND_KEYS } from '../../src/contract/keys.js';
import { applicationMenu, RECENT_IN_MENU, recentLabel, type MenuActions } from '../../src/main/menu.js';

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? flatten(item.submenu) : [])]);
}

function build(platform: NodeJS.Platform, devTools = false, recent: { path: string; openedAtMs: number }[] = []) {
  const actions = { command: vi.fn(), openRecent: vi.fn(), newWindow: vi.fn() } satisfies MenuActions;
  const template = applicationMenu({ platform, appName: 'XenLab', recent, devTools, home: '/home/ada' }, actions);
  return { template, items: flatten(template), actions };
}

/** label → [accelerator, the command its click sends]. */
function commands(platform: NodeJS.Platform): Map<string, [string | undefined, MenuCommand]> {
  const { items, actions } = build(platform);
  const found = new Map<string, [string | undefined, MenuCommand]>();
  for (const item of items) {
    if (item.click === undefined || item.label === undefined) continue;
    actions.command.mockClear();
    (item.click as (i: unknown, w: unknown, e: unknown) => void)({}, 'win', {});
    const call = actions.command.mock.calls[0] as [MenuCommand, unknown] | undefined;
    if (call) {
      expect(call[1]).toBe('win');
      found.set(item.label, [item.accelerator as string | undefined, call[0]]);
    }
  }
  return found;
}

describe('application menu', () => {
  it('has every command with its accelerator shown', () => {
    expect(Object.fromEntries(commands('linux'))).toEqual({
      New: ['CmdOrCtrl+Alt+N', 'file.new'],
      'Open…': ['CmdOrCtrl+O', 'file.open'],
      'Open Recording…': ['CmdOrCtrl+Shift+O', 'file.openRecording'],
      Save: ['CmdOrCtrl+S', 'file.save'],
      'Save As…': ['CmdOrCtrl+Shift+S', 'file.saveAs'],
      'Export Trace…': ['CmdOrCtrl+Shift+E', 'file.exportTrace'],
      Run: ['F5', 'session.run'],
      Pause: ['F6', 'session.pause'],
      Step: ['F10', 'session.step'],
      'Step Back': ['Shift+F10', 'session.stepBack'],
      Reset: ['CmdOrCtrl+Shift+F5', 'session.reset'],
      Editor: ['CmdOrCtrl+1', 'view.editor'],
      Consoles: ['CmdOrCtrl+2', 'view.consoles'],
      Topology: ['CmdOrCtrl+3', 'view.topology'],
      Events: ['CmdOrCtrl+4', 'view.events'],
      Timeline: ['CmdOrCtrl+5', 'view.timeline'],
      Inspector: ['CmdOrCtrl+6', 'view.inspector'],
      Exercise: ['CmdOrCtrl+7', 'view.exercise'],
      Problems: ['CmdOrCtrl+8', 'view.problems'],
      'About XenLab': [undefined, 'app.about'],
    });
  });

  it("shows the page's own shortcut for each command (one table: contract/keys.ts)", () => {
    for (const [label, [acc, command]] of commands('linux')) {
      const keys = COMMAND_KEYS[command];
      expect(acc, label).toBe(keys === undefined ? undefined : accelerator(keys));
    }
    expect(accelerator('Ctrl+Shift+E')).toBe('CmdOrCtrl+Shift+E');
    expect(accelerator('Shift+F10')).toBe('Shift+F10');
  });

  it('uses each accelerator once', () => {
    const accelerators = build('linux', true).items.map((i) => i.accelerator).filter((a) => a !== undefined);
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it('has File, Edit, Run, View, Help; on macOS the app menu and Window too', () => {
    expect(build('linux').template.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'Run', 'View', 'help']);
    expect(build('win32').template.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'Run', 'View', 'help']);
    const mac = build('darwin');
    expect(mac.template.map((m) => m.label ?? m.role)).toEqual(['XenLab', 'File', 'Edit', 'Run', 'View', 'windowMenu', 'help']);
    expect(mac.items.filter((i) => i.role === 'quit')).toHaveLength(1);
    expect(build('linux').items.filter((i) => i.role === 'quit')).toHaveLength(1);
  });

  it('has copy and paste (Edit roles), so the keys work in every view on macOS', () => {
    expect(build('darwin').items.map((i) => i.role)).toEqual(expect.arrayContaining(['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll']));
  });

  it('offers reload and the developer tools in development only', () => {
    expect(build('linux', false).items.map((i) => i.role)).not.toContain('toggleDevTools');
    expect(build('linux', false).items.map((i) => i.role)).not.toContain('reload');
    expect(build('linux', true).items.map((i) => i.role)).toEqual(expect.arrayContaining(['toggleDevTools', 'reload']));
  });

  it('lists recent files, at most RECENT_IN_MENU, and opens the one chosen', () => {
    const recent = Array.from({ length: 12 }, (_, i) => ({ path: `/home/ada/labs/s${i}.yaml`, openedAtMs: i }));
    const { items, actions } = build('linux', false, recent);
    const submenu = items.find((i) => i.label === 'Open Recent')?.submenu as MenuItemConstructorOptions[];
    expect(submenu).toHaveLength(RECENT_IN_MENU);
    expect(submenu[0]?.label).toBe('s0.yaml  —  ~/labs');
    (submenu[2]!.click as (i: unknown, w: unknown, e: unknown) => void)({}, 'win', {});
    expect(actions.openRecent).toHaveBeenCalledExactlyOnceWith('/home/ada/labs/s2.yaml', 'win');
  });

  it('says when there are no recent files', () => {
    const submenu = build('linux').items.find((i) => i.label === 'Open Recent')?.submenu as MenuItemConstructorOptions[];
    expect(submenu).toEqual([{ label: 'No Recent Files', enabled: false }]);
  });
});

describe('recentLabel', () => {
  it('shows the name, then the folder with ~ for home', () => {
    expect(recentLabel('/home/ada/x.yaml', '/home/ada')).toBe('x.yaml  —  ~');
    expect(recentLabel('/home/adam/x.yaml', '/home/ada')).toBe('x.yaml  —  /home/adam');
    expect(recentLabel('/srv/x.xenrec')).toBe('x.xenrec  —  /srv');
  });
});
