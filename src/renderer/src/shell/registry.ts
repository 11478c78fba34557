/**
 * The views of the lab. A view is a module under views/<name>/ that says
 * where it goes and mounts itself into a container it is given; it talks to
 * the host, the session and the other views only through its context.
 * Adding a view: a new folder, and one registerView line in views/index.ts.
 */
import type { HostApi, MenuCommand } from '../../../contract/api.js';
import type { SessionStore } from '../store/session_store.js';
import type { ScenarioDocument } from '../document.js';
import type { Commands } from './commands.js';
import type { Theme } from './theme.js';

/** Where a view lives: the main area (editor), the side area (consoles, topology, inspector), the bottom panel (problems, events, timeline). */
export type Area = 'main' | 'side' | 'bottom';

/** Something selected in one view that others may show: a place in the scenario, a record, a port, a domain. */
export type Selection =
  | { kind: 'location'; line: number; col: number }
  | { kind: 'record'; seq: number }
  | { kind: 'port'; domid: number; port: number }
  | { kind: 'domain'; domid: number };

export interface ViewContext {
  /** The contract: requests and events (the transport does not matter). */
  readonly host: HostApi;
  readonly session: SessionStore;
  readonly doc: ScenarioDocument;
  readonly commands: Commands;
  readonly theme: Theme;
  /** Brings a view to the front of its area. */
  openView(id: string): void;
  /** Tells every view about a selection (including the one that made it). */
  select(sel: Selection): void;
  onSelect(fn: (sel: Selection) => void): () => void;
  /** A short text on the view's tab (a count), or nothing. */
  setBadge(text: string | undefined): void;
  /** A message for the user in the notice area. */
  notify(message: string, kind?: 'info' | 'error'): void;
  /**
   * Added for the Exercise view: shows a text in the editor, asking first about unsaved changes
   * (save, discard or cancel). With a path it is that file; without, a new unsaved buffer named
   * `name` (kept as a draft). A scenario is opened as the session; an exercise's solution is not.
   * False when the user kept the buffer that was there.
   */
  openText(f: { path?: string; name: string; text: string }): Promise<boolean>;
}

/** What a mounted view may want to hear about. */
export interface ViewHandle {
  /** Its tab became the visible one (resize terminals, start drawing). */
  shown?(): void;
  hidden?(): void;
  /** Its container changed size while visible. */
  resized?(): void;
  dispose?(): void;
}

export interface View {
  id: string;
  title: string;
  area: Area;
  /** Order among the views of its area (lower first). */
  order?: number;
  /** The menu command that brings it up, and its shortcut. */
  command?: MenuCommand;
  keys?: string;
  mount(container: HTMLElement, ctx: ViewContext): ViewHandle | void;
}

const views: View[] = [];

export function registerView(v: View): void {
  if (views.some((x) => x.id === v.id)) throw new Error(`a view "${v.id}" is registered twice`);
  views.push(v);
}

export function registeredViews(): readonly View[] {
  return [...views].sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}
