/**
 * Every command the UI offers, with its shortcut: the toolbar, the menus,
 * the keyboard and the desktop app's menu all go through here, so a
 * tooltip always shows the key that does the same. Keys are caught before
 * the editor and the terminals see them (F5 runs, it is not sent to a guest).
 */
export interface Command {
  id: string;
  title: string;
  /** "F5", "Shift+F10", "Ctrl+S", "Ctrl+Shift+S". */
  keys?: string;
  run(): unknown;
  enabled?(): boolean;
}

const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform);

/** A key combination as the user reads it on this platform. */
export function keyLabel(keys: string): string {
  return IS_MAC ? keys.replace(/Ctrl\+/g, '⌘').replace(/Shift\+/g, '⇧').replace(/Alt\+/g, '⌥') : keys;
}

function eventKeys(e: KeyboardEvent): string {
  const parts: string[] = [];
  if (e.ctrlKey || e.metaKey) parts.push('Ctrl');
  if (e.altKey) parts.push('Alt');
  if (e.shiftKey) parts.push('Shift');
  const k = e.key.length === 1 ? e.key.toUpperCase() : e.key;
  parts.push(k);
  return parts.join('+');
}

export class Commands {
  private readonly byId = new Map<string, Command>();
  private readonly byKeys = new Map<string, Command>();

  register(...cmds: Command[]): void {
    for (const c of cmds) {
      this.byId.set(c.id, c);
      if (c.keys !== undefined) this.byKeys.set(c.keys, c);
    }
  }

  get(id: string): Command | undefined {
    return this.byId.get(id);
  }

  /** "Run (F5)": a command's title with its shortcut, for tooltips. */
  tooltip(id: string): string {
    const c = this.byId.get(id);
    if (c === undefined) return id;
    return c.keys === undefined ? c.title : `${c.title} (${keyLabel(c.keys)})`;
  }

  /** Runs a command by id (a MenuCommand from the desktop menu, or any registered id). */
  run(id: string): void {
    const c = this.byId.get(id);
    if (c === undefined || (c.enabled !== undefined && !c.enabled())) return;
    void Promise.resolve(c.run());
  }

  /** Catches the registered shortcuts (capture phase, before Monaco and xterm). */
  listen(target: Window): void {
    target.addEventListener(
      'keydown',
      (e) => {
        if (e.repeat && !/^F\d+$/.test(e.key)) return;
        const c = this.byKeys.get(eventKeys(e));
        if (c === undefined) return;
        e.preventDefault();
        e.stopPropagation();
        this.run(c.id);
      },
      true,
    );
  }
}
