/**
 * The lab's window: connects to the host, lays out the views, and carries
 * out the commands — files (open, save, save as, recent, recordings, trace
 * export, drafts), the session (run, pause, step, step back, reset, speed),
 * the connection (lost, reconnected and caught up). On first start it opens
 * the embedded default scenario (Plan 9 booting on Xen 2.0) and runs it.
 */
import type { AppInfo, HostApi } from '../../contract/api.js';
import type { DraftInfo, FileText } from '../../contract/files.js';
import type { ControlAction, OpenResult } from '../../contract/session.js';
import { DraftKeeper } from './drafts.js';
import { baseName, langOf, ScenarioDocument, type DocumentFile } from './document.js';
import { asHostError, connect, type Connection } from './host/connect.js';
import { Commands, keyLabel, type Command } from './shell/commands.js';
import { askUnsaved, message, modal, pickFile } from './shell/dialogs.js';
import { Layout } from './shell/layout.js';
import { Menu, type MenuItem } from './shell/menu.js';
import { Notices } from './shell/notices.js';
import { registeredViews, type Selection, type ViewContext } from './shell/registry.js';
import { SPEED_STOPS, speedIndex } from './shell/speed.js';
import { StatusBar } from './shell/statusbar.js';
import { Theme } from './shell/theme.js';
import { SessionStore } from './store/session_store.js';
import { h, icon } from './util/dom.js';
import { Emitter } from './util/emitter.js';
import { editorReady, provideEditorSupport } from './views/editor/index.js';
import { isSolutionText } from './views/exercise/model.js';
import './views/index.js';
import { COMMAND_KEYS } from '../../contract/keys.js';

const LAST_FILE = 'xenlab.lastFile';
const SPEED_KEY = 'xenlab.speed';

const NEW_SCENARIO = `name: A new scenario
description: >
  Two domains and an event channel between them.
domains:
  - name: dom0
  - name: guest
steps:
  - as: guest
    op: alloc_unbound
    args: { dom: DOMID_SELF, remote_dom: dom0 }
    expect: { ret: 0 }
    save: { port: guest_port }
  - run: 1ms
`;

const SCENARIO_FILES = /\.(ya?ml|[mc]?ts)$/i;
const RECORDING_FILES = /\.json$/i;

export class App {
  private readonly conn: Connection;
  private readonly host: HostApi;
  private readonly theme = new Theme();
  private readonly commands = new Commands();
  private readonly layout: Layout;
  private readonly notices: Notices;
  private readonly status: StatusBar;
  private readonly store: SessionStore;
  private readonly doc = new ScenarioDocument();
  private readonly drafts: DraftKeeper;
  private readonly selections = new Emitter<{ select: Selection }>();
  private info: AppInfo | undefined;
  /** doc.version the session was compiled from (-1: none). */
  private compiledVersion = -1;
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly docTitle = h('span', { class: 'xl-doc-title', 'data-testid': 'doc-title' });
  private readonly speed = h('select', { class: 'xl-select', title: 'Speed of Run', 'aria-label': 'Speed', 'data-testid': 'speed' });
  /** Session operations run one after another, in the order asked (a key pressed while a file opens waits for it). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(mount: HTMLElement) {
    this.conn = connect();
    this.host = this.conn.host;
    this.store = new SessionStore(this.host);
    this.layout = new Layout(mount);
    this.notices = new Notices(this.layout.notices);
    this.status = new StatusBar(this.layout.statusbar, () => this.openView('problems'));
    this.drafts = new DraftKeeper(this.host, this.doc);
    this.registerCommands();
    this.buildToolbar();
    this.mountViews();
    this.wire();
  }

  // ---- start

  async start(): Promise<void> {
    const info = this.host.request('app.info', {});
    const support = this.host.request('editor.support', {});
    provideEditorSupport(support);
    support.catch((e: unknown) => this.notify(`The editor's schema and typings are missing: ${asHostError(e).message}`, 'error'));
    try {
      this.info = await info;
      performance.mark('xenlab:info');
    } catch (e) {
      this.notices.setBanner(`The lab did not answer: ${asHostError(e).message}`);
      return;
    }
    this.status.connection(this.info.mode === 'web' ? 'connected' : '', true);
    const leftOver = this.drafts.leftOver();
    const last = localStorage.getItem(LAST_FILE);
    let opened = false;
    if (last !== null) {
      try {
        const f = await this.host.request('files.read', { path: last });
        opened = await this.load(f);
      } catch {
        localStorage.removeItem(LAST_FILE); // gone or moved: start as the first time
      }
    }
    if (!opened) {
      // First start: Plan 9 boots on Xen 2.0, so there is something alive at once.
      await this.load(this.info.defaultScenario);
      await this.control('run');
    }
    void Promise.all([editorReady, this.running()]).then(() => {
      performance.mark('xenlab:ready');
      document.documentElement.dataset.ready = 'true';
    });
    const drafts = await leftOver;
    if (drafts.length > 0) void this.offerRecovery(drafts);
  }

  /** Resolves once the session has run (or was never meant to run: a file opened paused). */
  private running(): Promise<void> {
    return new Promise((resolve) => {
      if (this.store.status !== undefined) return resolve();
      const off = this.store.on('status', () => {
        off();
        resolve();
      });
    });
  }

  // ---- views

  private mountViews(): void {
    for (const v of registeredViews()) {
      const area = this.layout.areas[v.area];
      const tab = area.add(v.id, v.title, v.keys === undefined ? v.title : `${v.title} (${keyLabel(v.keys)})`);
      const ctx: ViewContext = {
        host: this.host,
        session: this.store,
        doc: this.doc,
        commands: this.commands,
        theme: this.theme,
        openView: (id) => this.openView(id),
        select: (sel) => this.selections.emit('select', sel),
        onSelect: (fn) => this.selections.on('select', fn),
        setBadge: (t) => tab.setBadge(t),
        notify: (m, k) => this.notify(m, k),
        openText: (f) => this.openText(f),
      };
      tab.setBadge(undefined);
      try {
        tab.setHandle(v.mount(tab.pane, ctx) ?? undefined);
      } catch (e) {
        tab.pane.append(h('div', { class: 'xl-empty xl-error-text' }, `${v.title} could not start: ${e instanceof Error ? e.message : String(e)}`));
      }
      this.commands.register({ id: v.command ?? `view.${v.id}`, title: v.title, ...(v.keys === undefined ? {} : { keys: v.keys }), run: () => this.openView(v.id) });
    }
    for (const area of Object.values(this.layout.areas)) {
      const ids = registeredViews().filter((v) => v.area === area.area).map((v) => v.id);
      const last = this.layout.lastActive(area.area);
      const first = last !== undefined && ids.includes(last) ? last : ids[0];
      if (first !== undefined) area.show(first);
    }
  }

  private openView(id: string): void {
    for (const area of Object.values(this.layout.areas)) if (area.has(id)) area.show(id);
  }

  // ---- commands

  private registerCommands(): void {
    const c = (id: string, title: string, keys: string | undefined, run: () => unknown, enabled?: () => boolean): Command => ({ id, title, ...(keys === undefined ? {} : { keys }), run, ...(enabled === undefined ? {} : { enabled }) });
    const hasSession = (): boolean => this.store.info !== undefined;
    this.commands.register(
      c('file.new', 'New scenario', COMMAND_KEYS['file.new'], () => this.newScenario()),
      c('file.open', 'Open…', COMMAND_KEYS['file.open'], () => this.openFile()),
      c('file.save', 'Save', COMMAND_KEYS['file.save'], () => this.save()),
      c('file.saveAs', 'Save as…', COMMAND_KEYS['file.saveAs'], () => this.saveAs()),
      c('file.openRecording', 'Open recording…', COMMAND_KEYS['file.openRecording'], () => this.openRecordingFile()),
      c('file.saveRecording', 'Save recording…', undefined, () => this.saveRecording(), hasSession),
      c('file.exportTrace', 'Export trace…', COMMAND_KEYS['file.exportTrace'], () => this.exportTrace(), hasSession),
      // Run while running starts the edited text over, when it was edited.
      c('session.run', 'Run', COMMAND_KEYS['session.run'], () => this.control('run'), () => this.store.status?.state !== 'running' || this.compiledVersion !== this.doc.version),
      c('session.pause', 'Pause', COMMAND_KEYS['session.pause'], () => this.control('pause'), () => this.store.status?.state === 'running'),
      c('session.step', 'Step', COMMAND_KEYS['session.step'], () => this.control('step')),
      c('session.stepBack', 'Step back', COMMAND_KEYS['session.stepBack'], () => this.control('stepBack'), () => (this.store.status?.position ?? 0) > 0),
      c('session.reset', 'Reset', COMMAND_KEYS['session.reset'], () => this.control('reset')),
      c('view.bottom', 'Toggle the bottom panel', 'Ctrl+J', () => this.layout.toggleBottom()),
      c('app.about', 'About XenLab', undefined, () => this.about()),
    );
    this.commands.listen(window);
  }

  private buildToolbar(): void {
    const button = (id: string, iconName: string, label: string): HTMLButtonElement => {
      const b = h('button', { class: 'xl-tool', title: this.commands.tooltip(id), 'data-command': id, 'aria-label': label }, icon(iconName), h('span', { class: 'xl-tool-label' }, label));
      b.addEventListener('click', () => this.commands.run(id));
      this.buttons.set(id, b);
      return b;
    };
    const fileMenu = new Menu('File', this.commands, () => [
      { command: 'file.new' },
      { command: 'file.open' },
      ...this.recentItems,
      { separator: true },
      { command: 'file.save' },
      { command: 'file.saveAs' },
      { separator: true },
      { command: 'file.openRecording' },
      { command: 'file.saveRecording' },
      { command: 'file.exportTrace' },
    ]);
    fileMenu.button.addEventListener('pointerenter', () => void this.loadRecent());
    fileMenu.button.addEventListener('focus', () => void this.loadRecent());
    const sessionMenu = new Menu('Session', this.commands, () => [{ command: 'session.run' }, { command: 'session.pause' }, { command: 'session.step' }, { command: 'session.stepBack' }, { command: 'session.reset' }]);
    const viewMenu = new Menu('View', this.commands, () => [...registeredViews().map((v): MenuItem => ({ command: v.command ?? `view.${v.id}` })), { separator: true }, { command: 'view.bottom' }, { separator: true }, { command: 'app.about' }]);
    SPEED_STOPS.forEach((s, i) => this.speed.append(h('option', { value: String(i) }, s.label)));
    const saved = Number(localStorage.getItem(SPEED_KEY) ?? NaN);
    this.speed.value = String(Number.isInteger(saved) && SPEED_STOPS[saved] !== undefined ? saved : SPEED_STOPS.findIndex((s) => s.label === 'Real time'));
    this.speed.addEventListener('change', () => void this.setSpeed());
    this.layout.toolbar.append(
      h('span', { class: 'xl-brand', title: 'XenLab: Xen’s event channels, grant tables, rings and consoles' }, 'XenLab'),
      h('nav', { class: 'xl-menus' }, fileMenu.button, sessionMenu.button, viewMenu.button),
      h('div', { class: 'xl-doc' }, this.docTitle),
      h(
        'div',
        { class: 'xl-controls', role: 'group', 'aria-label': 'Session' },
        button('session.run', 'run', 'Run'),
        button('session.pause', 'pause', 'Pause'),
        button('session.step', 'step', 'Step'),
        button('session.stepBack', 'back', 'Back'),
        button('session.reset', 'reset', 'Reset'),
        h('label', { class: 'xl-speed' }, h('span', { class: 'xl-speed-label' }, 'Speed'), this.speed),
      ),
    );
  }

  private recentItems: MenuItem[] = [];

  private async loadRecent(): Promise<void> {
    try {
      const r = await this.host.request('files.recent', {});
      const files = r.files.filter((f) => f.path !== this.doc.path).slice(0, 8);
      this.recentItems = files.length === 0 ? [] : [{ heading: 'Recent' }, ...files.map((f): MenuItem => ({ label: baseName(f.path), hint: f.path, run: () => void this.openPath(f.path) }))];
    } catch {
      this.recentItems = [];
    }
  }

  private refreshControls(): void {
    for (const [id, b] of this.buttons) {
      const c = this.commands.get(id);
      b.disabled = c?.enabled !== undefined && !c.enabled();
    }
    const st = this.store.status;
    if (st !== undefined) {
      const i = speedIndex(st.speed);
      if (i >= 0 && String(i) !== this.speed.value && document.activeElement !== this.speed) this.speed.value = String(i);
    }
  }

  private refreshTitle(): void {
    const dirty = this.doc.dirty;
    this.docTitle.textContent = `${this.doc.name}${dirty ? ' ●' : ''}`;
    this.docTitle.title = `${this.doc.path ?? 'not saved yet'}${dirty ? ' — unsaved changes' : ''}`;
    this.docTitle.classList.toggle('xl-dirty', dirty);
    document.title = `${dirty ? '● ' : ''}${this.doc.name} — XenLab`;
  }

  // ---- wiring

  private wire(): void {
    this.doc.on('changed', () => {
      this.refreshTitle();
      this.validateSoon();
      this.refreshControls();
    });
    this.store.on('status', (s) => {
      this.status.update(this.store.info, s);
      this.refreshControls();
    });
    this.store.on('session', () => {
      this.status.update(this.store.info, this.store.status);
      this.refreshControls();
    });
    this.store.on('ended', (e) => {
      this.compiledVersion = -1;
      this.status.update(undefined, undefined);
      this.notify(`The session was stopped: ${e.message} Run (F5) opens the scenario again.`, 'error');
      this.refreshControls();
    });
    this.store.onGap = () => void this.resync();
    this.host.on('menu.command', (m) => this.commands.run(m.command));
    if (this.conn.kind === 'web') {
      this.conn.host.connection.on('state', (s) => {
        if (s.state === 'lost') {
          this.notices.setBanner('The connection to the lab is lost (is npm run web still running?). Reconnecting…');
          this.status.connection('reconnecting…', false);
        } else if (s.state === 'open') {
          this.notices.setBanner(undefined);
          this.status.connection('connected', true);
          if (s.reconnected) void this.resync().then(() => this.notify('Reconnected to the lab'));
        }
      });
    }
    window.addEventListener('beforeunload', (e) => {
      if (!this.doc.dirty) return;
      this.drafts.sync();
      e.preventDefault();
      e.returnValue = '';
    });
    this.wireDrop();
    this.refreshTitle();
  }

  private validateTimer: ReturnType<typeof setTimeout> | undefined;

  /** Checks the text with the host a moment after typing stops: markers and problems as you type. */
  private validateSoon(): void {
    if (this.validateTimer !== undefined) clearTimeout(this.validateTimer);
    this.validateTimer = setTimeout(() => {
      const version = this.doc.version;
      // An exercise's solution is no scenario: the Exercise view checks it against its exercise.
      if (isSolutionText(this.doc.text, this.doc.lang)) {
        this.store.setProblems([]);
        return;
      }
      this.host.request('session.validate', { file: this.fileName(), text: this.doc.text, lang: this.doc.lang }).then(
        (r) => {
          if (version === this.doc.version) this.store.setProblems(r.problems);
        },
        () => {
          // the host will say it again on run; nothing to add here
        },
      );
    }, 400);
  }

  /** Catches up after a reconnect (or a gap in the trace stream). */
  private resync(): Promise<void> {
    return this.serial(async () => {
      try {
        const s = await this.host.request('session.sync', { traceFrom: this.store.trace.count });
        if (s.session !== null) this.store.synced(s);
        else if (this.store.info !== undefined) {
          // The host lost the session (the page was away too long): open the scenario again.
          this.compiledVersion = -1;
          if (await this.compileNow()) this.notify('The lab had lost the session: the scenario was opened again');
        }
      } catch (e) {
        this.notify(`Could not catch up with the lab: ${asHostError(e).message}`, 'error');
      }
    });
  }

  private wireDrop(): void {
    const overlay = h('div', { class: 'xl-drop' }, 'Drop a scenario (.yaml, .ts) or a recording (.json) to open it');
    let depth = 0;
    window.addEventListener('dragenter', (e) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      depth++;
      document.body.append(overlay);
    });
    window.addEventListener('dragleave', () => {
      if (--depth <= 0) {
        depth = 0;
        overlay.remove();
      }
    });
    window.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
    window.addEventListener('drop', (e) => {
      depth = 0;
      overlay.remove();
      const file = e.dataTransfer?.files[0];
      if (file === undefined) return;
      e.preventDefault();
      void this.openDropped(file);
    });
  }

  private async openDropped(file: File): Promise<void> {
    const text = await file.text();
    if (RECORDING_FILES.test(file.name)) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        doc = undefined;
      }
      if ((doc as { format?: unknown } | undefined)?.format === 'xenlab-recording') {
        await this.serial(async () => this.opened(await this.request(() => this.host.request('session.openRecordingText', { file: file.name, text })), `the recording ${file.name}`));
        return;
      }
    }
    if (!SCENARIO_FILES.test(file.name)) {
      this.notify(`${file.name} is neither a scenario (.yaml, .ts) nor a recording (.json)`, 'error');
      return;
    }
    if (!(await this.guard('opening another file'))) return;
    this.doc.load({ path: undefined, name: file.name, lang: langOf(file.name), text, mtimeMs: undefined }, text);
    await this.compile();
  }

  // ---- session

  private fileName(): string {
    return this.doc.path ?? this.doc.name;
  }

  /** Opens the document's text as the session (paused at 0); false when it has problems. */
  private compile(): Promise<boolean> {
    return this.serial(() => this.compileNow());
  }

  private async compileNow(): Promise<boolean> {
    const version = this.doc.version;
    if (isSolutionText(this.doc.text, this.doc.lang)) {
      this.notify(`${this.doc.name} is an exercise's solution, not a scenario: check it in the Exercise view (Ctrl+7, then Ctrl+Enter)`);
      return false;
    }
    const r = await this.request(() => this.host.request('session.open', { file: this.fileName(), text: this.doc.text, lang: this.doc.lang }));
    if (r === undefined) return false;
    if (!r.ok) {
      this.store.setProblems(r.problems);
      this.openView('problems');
      this.notify(`${this.doc.name} has ${r.problems.length === 1 ? 'a problem' : `${r.problems.length} problems`}: the session was left as it was`, 'error');
      return false;
    }
    this.store.opened(r.session, r.status, r.topology);
    performance.mark('xenlab:session');
    this.compiledVersion = version;
    await this.applySpeed(true);
    return true;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private control(action: ControlAction): Promise<void> {
    return this.serial(async () => {
      const stale = this.store.info === undefined || this.compiledVersion !== this.doc.version;
      if ((action === 'run' || action === 'step' || action === 'reset') && stale) {
        if (!(await this.compileNow())) return;
        if (action === 'reset') return;
      }
      if (this.store.info === undefined) return;
      await this.request(() => this.host.request('session.control', { action }));
    });
  }

  private setSpeed(): Promise<void> {
    return this.serial(() => this.applySpeed(false));
  }

  private async applySpeed(quiet: boolean): Promise<void> {
    const i = Number(this.speed.value);
    const stop = SPEED_STOPS[i];
    if (stop === undefined) return;
    localStorage.setItem(SPEED_KEY, String(i));
    if (this.store.info === undefined) return;
    const r = await this.host.request('session.setSpeed', { speed: stop.speed }).catch((e: unknown) => {
      if (!quiet) this.notify(asHostError(e).message, 'error');
      return undefined;
    });
    if (r !== undefined) this.status.update(this.store.info, r);
  }

  /** Runs a request, turning a failure into a notice; undefined when it failed. */
  private async request<T>(f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (e) {
      this.notify(asHostError(e).message, 'error');
      return undefined;
    }
  }

  // ---- files

  /** Shows a file in the editor and opens it as the session; false when it could not be shown. */
  private async load(f: FileText, unsaved?: string): Promise<boolean> {
    if (f.lang === 'recording') {
      await this.serial(async () => this.opened(await this.request(() => this.host.request('session.openRecording', { path: f.path })), `the recording ${baseName(f.path)}`));
      return true;
    }
    const lang = f.lang === 'typescript' ? 'typescript' : 'yaml';
    const file: DocumentFile = { path: f.path, name: baseName(f.path), lang, text: f.text, mtimeMs: f.mtimeMs };
    this.doc.load(file, unsaved);
    localStorage.setItem(LAST_FILE, f.path);
    await this.compile();
    return true;
  }

  private opened(r: OpenResult | undefined, what: string): void {
    if (r === undefined) return;
    if (!r.ok) {
      this.store.setProblems(r.problems);
      this.openView('problems');
      this.notify(`${what} cannot be replayed: see Problems`, 'error');
      return;
    }
    this.store.opened(r.session, r.status, r.topology);
    this.compiledVersion = -1;
    this.notify(`Replaying ${what}: paused at its end (position ${r.status.position})`);
  }

  /** Asks what to do with unsaved changes; false: the user cancelled. */
  private async guard(doing: string): Promise<boolean> {
    if (!this.doc.dirty) return true;
    const a = await askUnsaved(this.doc.name, doing);
    if (a === undefined) return false;
    if (a === 'save') return this.save();
    this.drafts.discard(this.doc.draftKey);
    return true;
  }

  private async openPath(path: string): Promise<void> {
    if (!(await this.guard('opening another file'))) return;
    const f = await this.request(() => this.host.request('files.read', { path }));
    if (f !== undefined) await this.load(f);
  }

  private async choose(mode: 'open' | 'save', kind: 'scenario' | 'recording' | 'trace', suggested = ''): Promise<string | undefined> {
    const native = await this.request(() => (mode === 'open' ? this.host.request('files.pickOpen', { kind: kind === 'trace' ? 'recording' : kind }) : this.host.request('files.pickSave', { kind, suggested })));
    if (native === undefined) return undefined;
    if (native.path !== null || this.info?.mode !== 'web') return native.path ?? undefined;
    const folder = this.doc.path !== undefined && this.info.roots.some((r) => this.doc.path!.startsWith(`${r.path}/`)) ? this.doc.path.slice(0, this.doc.path.lastIndexOf('/')) : undefined;
    const titles = { scenario: mode === 'open' ? 'Open a scenario' : 'Save the scenario as', recording: mode === 'open' ? 'Open a recording' : 'Save a recording of the session as', trace: 'Export the trace as' };
    return pickFile(this.host, {
      mode,
      title: titles[kind],
      roots: this.info.roots,
      ...(folder === undefined ? {} : { start: folder }),
      ...(suggested === '' ? {} : { suggested }),
      accept: kind === 'scenario' ? (mode === 'open' ? /\.(ya?ml|[mc]?ts|json)$/i : SCENARIO_FILES) : RECORDING_FILES,
    });
  }

  /** ViewContext.openText: a file's text, or a new unsaved buffer, in the editor. */
  private async openText(f: { path?: string; name: string; text: string }): Promise<boolean> {
    if (!(await this.guard('opening another file'))) return false;
    const lang = langOf(f.name);
    if (f.path === undefined) this.doc.load({ path: undefined, name: f.name, lang, text: f.text, mtimeMs: undefined }, f.text);
    else this.doc.load({ path: f.path, name: baseName(f.path), lang, text: f.text, mtimeMs: undefined });
    if (!isSolutionText(f.text, lang)) await this.compile();
    return true;
  }

  private async newScenario(): Promise<void> {
    if (!(await this.guard('starting a new scenario'))) return;
    this.doc.load({ path: undefined, name: 'untitled.yaml', lang: 'yaml', text: NEW_SCENARIO, mtimeMs: undefined }, NEW_SCENARIO);
    await this.compile();
  }

  private async openFile(): Promise<void> {
    if (!(await this.guard('opening another file'))) return;
    const path = await this.choose('open', 'scenario');
    if (path === undefined) return;
    const f = await this.request(() => this.host.request('files.read', { path }));
    if (f !== undefined) await this.load(f);
  }

  private async openRecordingFile(): Promise<void> {
    const path = await this.choose('open', 'recording');
    if (path === undefined) return;
    await this.serial(async () => this.opened(await this.request(() => this.host.request('session.openRecording', { path })), `the recording ${baseName(path)}`));
  }

  /** Saves the buffer where it came from (Save as for a new buffer); false when it was not saved. */
  private async save(): Promise<boolean> {
    if (this.doc.path === undefined) return this.saveAs();
    return this.writeTo(this.doc.path, this.doc.mtimeMs);
  }

  private async saveAs(): Promise<boolean> {
    const path = await this.choose('save', 'scenario', this.doc.name);
    if (path === undefined) return false;
    if (path !== this.doc.path && this.info?.mode === 'web') {
      const exists = await this.host.request('files.read', { path }).then(
        () => true,
        () => false,
      );
      if (exists && (await modal('Replace the file?', h('p', { class: 'xl-dialog-text' }, `${path} exists. Replace it?`), [{ label: 'Replace', value: true, danger: true }, { label: 'Cancel', value: false }])) !== true) return false;
    }
    const ok = await this.writeTo(path, undefined);
    if (ok) this.compiledVersion = -1;
    return ok;
  }

  private async writeTo(path: string, expectedMtimeMs: number | undefined): Promise<boolean> {
    const text = this.doc.text;
    const oldKey = this.doc.draftKey;
    try {
      const r = await this.host.request('files.write', { path, text, ...(expectedMtimeMs === undefined ? {} : { expectedMtimeMs }) });
      this.doc.saved(path, r.mtimeMs, text);
      this.drafts.discard(oldKey);
      localStorage.setItem(LAST_FILE, path);
      this.notify(`Saved ${baseName(path)}`);
      return true;
    } catch (e) {
      const err = asHostError(e);
      if (err.code === 'conflict') {
        const a = await modal<'overwrite' | 'saveAs'>('The file changed on disk', h('p', { class: 'xl-dialog-text' }, err.message), [
          { label: 'Overwrite', value: 'overwrite', danger: true },
          { label: 'Save as…', value: 'saveAs', primary: true },
          { label: 'Cancel', value: undefined as unknown as 'saveAs' },
        ]);
        if (a === 'overwrite') return this.writeTo(path, undefined);
        if (a === 'saveAs') return this.saveAs();
        return false;
      }
      // The buffer stays as it is (and its draft is kept): say why it was not saved.
      await message('Not saved', `${err.message}. Your text is still here, unsaved.`);
      return false;
    }
  }

  private stem(): string {
    return this.doc.name.replace(/\.[^.]*$/, '');
  }

  private async exportTrace(): Promise<void> {
    const path = await this.choose('save', 'trace', `${this.stem()}.trace.jsonl`);
    if (path === undefined) return;
    const format = /\.json$/i.test(path) ? 'chrome-trace' : 'jsonl';
    const r = await this.request(() => this.host.request('session.exportTrace', { path, format }));
    if (r !== undefined) this.notify(`Exported the trace (${format === 'jsonl' ? 'JSON Lines' : 'Chrome trace, for ui.perfetto.dev'}) to ${baseName(path)}`);
  }

  private async saveRecording(): Promise<void> {
    const path = await this.choose('save', 'recording', `${this.stem()}.recording.json`);
    if (path === undefined) return;
    const r = await this.request(() => this.host.request('session.saveRecording', { path }));
    if (r !== undefined) this.notify(`Saved a recording of the session to ${baseName(path)}`);
  }

  private async offerRecovery(drafts: DraftInfo[]): Promise<void> {
    const d = drafts[0]!;
    const when = new Date(d.savedAtMs).toLocaleString();
    const more = drafts.length > 1 ? ` (and ${drafts.length - 1} more)` : '';
    const a = await modal<'recover' | 'discard'>(
      'Recover unsaved changes?',
      h('p', { class: 'xl-dialog-text' }, `XenLab kept unsaved changes to ${baseName(d.file)}${more}, from ${when}.`),
      [
        { label: 'Recover', value: 'recover', primary: true },
        { label: 'Discard', value: 'discard', danger: true },
        { label: 'Later', value: undefined as unknown as 'recover' },
      ],
      { testId: 'recover' },
    );
    if (a === 'discard') for (const x of drafts) this.drafts.discard(x.key);
    if (a !== 'recover') return;
    if (!(await this.guard('recovering the draft'))) return;
    const draft = await this.request(() => this.host.request('drafts.read', { key: d.key }));
    if (draft === undefined) return;
    if (d.key.startsWith('file:')) {
      const f = await this.host.request('files.read', { path: d.key.slice(5) }).catch(() => undefined);
      if (f !== undefined) {
        await this.load(f, draft.text);
        return;
      }
    }
    const name = baseName(draft.file);
    this.doc.load({ path: undefined, name, lang: langOf(name), text: draft.text, mtimeMs: undefined }, draft.text);
    await this.compile();
  }

  private about(): void {
    const i = this.info;
    void message('About XenLab', `XenLab ${i?.version ?? ''}: a lab for Xen's event channels, grant tables, rings, the control channel and consoles. ${i?.mode === 'web' ? 'Running in a browser (web mode).' : ''}`);
  }

  private notify(text: string, kind: 'info' | 'error' = 'info'): void {
    this.notices.show(text, kind);
  }
}
