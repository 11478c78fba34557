/**
 * Consoles: one terminal per domain with a console, in tabs — dom0's shell,
 * each guest's console (Plan 9 over xend, Mini-OS over xenconsoled, a
 * custom kernel's). Keys typed go to that domain (session.type); output
 * comes from the session's stream. Search, copy, follow (auto-scroll) on
 * the view's own toolbar, for the console in front; a grid shows every
 * console at once (the one clicked or typed into is in front).
 */
import type { ConsoleInfo } from '../../../../contract/session.js';
import { asHostError } from '../../host/connect.js';
import { keyLabel } from '../../shell/commands.js';
import type { View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { h, icon } from '../../util/dom.js';
import { DomainTerminal } from './terminal.js';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

/** Where the grid-or-tabs choice is kept. */
const GRID_KEY = 'xenlab.consoles.grid';
/** Terminals a grid draws with WebGL at most; Chromium keeps ~16 contexts a page, and the editor and views want some. */
const GRID_WEBGL_MAX = 8;

const KIND_HINT: Record<ConsoleInfo['kind'], string> = {
  shell: "dom0's shell: xl list, lsevtchn, xl shutdown …",
  xend: 'console over the Xen 2.0 control interface (xend)',
  xenconsoled: 'console ring through xenconsoled',
  kernel: "the scenario's own kernel",
};

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const tabs = h('div', { class: 'xl-subtabs', role: 'tablist', 'aria-label': 'Consoles' });
  const searchInput = h('input', { class: 'xl-input xl-search-input', type: 'search', placeholder: 'Search', 'aria-label': 'Search the console', spellcheck: 'false' });
  const followBtn = h('button', { class: 'xl-icon-button xl-toggle', title: 'Follow output (scroll to the newest line)', 'aria-pressed': 'true' }, icon('follow'));
  const copyBtn = h('button', { class: 'xl-icon-button', title: `Copy the selection (${keyLabel('Ctrl+Shift+C')})` }, icon('copy'));
  const gridBtn = h('button', { class: 'xl-icon-button xl-toggle', title: 'Show every console at once (a grid), or one at a time (tabs)', 'aria-pressed': 'false', 'data-testid': 'consoles-grid' }, icon('grid'));
  const prevBtn = h('button', { class: 'xl-icon-button', title: 'Previous match (Shift+Enter)' }, icon('up'));
  const nextBtn = h('button', { class: 'xl-icon-button', title: 'Next match (Enter)' }, icon('down'));
  const note = h('div', { class: 'xl-console-note', role: 'status' });
  const tools = h('div', { class: 'xl-view-tools' }, searchInput, prevBtn, nextBtn, followBtn, copyBtn, gridBtn);
  const body = h('div', { class: 'xl-terminals' });
  const empty = h('div', { class: 'xl-empty' }, 'No console yet: open a scenario with a dom0, a plan9 or a minios domain.');
  container.append(h('div', { class: 'xl-view-bar' }, tabs, tools), note, body, empty);

  const terms = new Map<number, DomainTerminal>();
  const infos = new Map<number, ConsoleInfo>();
  let current: DomainTerminal | undefined;
  let visible = false;

  const typeTo = (domid: number) => (data: string) => {
    ctx.host.request('session.type', { domid, data }).then(
      () => (note.textContent = ''),
      (e: unknown) => (note.textContent = asHostError(e).message),
    );
  };

  let grid = localStorage.getItem(GRID_KEY) === '1';

  /** Tabs: only the console in front is shown. Grid: all are, in columns enough to keep them near square. */
  const arrange = (): void => {
    const ordered = [...terms.values()].sort((a, b) => a.domid - b.domid);
    const tiled = grid && ordered.length > 1;
    body.classList.toggle('xl-grid', tiled);
    body.style.setProperty('--cols', String(Math.ceil(Math.sqrt(ordered.length))));
    gridBtn.setAttribute('aria-pressed', String(grid));
    ordered.forEach((t, i) => {
      t.el.classList.toggle('xl-current', t === current);
      if (tiled) {
        if (visible) t.show(i < GRID_WEBGL_MAX);
        else t.hide();
      } else if (t !== current) t.hide();
      // Appended in domain order, so the grid reads like the tabs.
      if (body.children[i] !== t.el) body.insertBefore(t.el, body.children[i] ?? null);
    });
    if (!tiled && visible) current?.show();
    // Fitted again once all are in: a cell's size depends on how many rows of cells there are.
    else if (visible) for (const t of ordered) t.resize();
  };

  const select = (domid: number, focus = true): void => {
    const t = terms.get(domid);
    if (t === undefined) return;
    current = t;
    for (const b of tabs.querySelectorAll<HTMLElement>('.xl-subtab')) b.setAttribute('aria-selected', String(b.dataset.domid === String(domid)));
    followBtn.setAttribute('aria-pressed', String(t.follow));
    arrange();
    if (visible && focus) t.focus();
    note.textContent = '';
  };

  gridBtn.addEventListener('click', () => {
    grid = !grid;
    localStorage.setItem(GRID_KEY, grid ? '1' : '0');
    arrange();
    current?.focus();
  });

  const renderTabs = (): void => {
    tabs.replaceChildren();
    for (const [domid, info] of [...infos].sort((a, b) => a[0] - b[0])) {
      const b = h(
        'button',
        { class: `xl-subtab${info.alive ? '' : ' xl-dead'}`, role: 'tab', 'data-domid': String(domid), title: `${info.name} (domain ${domid}): ${KIND_HINT[info.kind]}${info.alive ? '' : ' — destroyed'}`, 'aria-selected': String(current?.domid === domid) },
        info.kind === 'shell' ? `${info.name} shell` : info.name,
      );
      b.addEventListener('click', () => select(domid));
      tabs.append(b);
    }
    empty.hidden = infos.size > 0;
  };

  /** A new session: terminals of domains still there are kept (and cleared), others go. */
  ctx.session.on('session', (info) => {
    const list = info?.consoles ?? [];
    for (const [domid, t] of terms) {
      const keep = list.find((c) => c.domid === domid && c.name === t.name);
      if (keep === undefined) {
        t.dispose();
        terms.delete(domid);
        if (current === t) current = undefined;
      } else t.reset(new Uint8Array(0));
    }
    infos.clear();
    for (const c of list) {
      infos.set(c.domid, c);
      if (!terms.has(c.domid)) {
        const t = new DomainTerminal(c.domid, c.name, ctx.theme.terminal, typeTo(c.domid));
        terms.set(c.domid, t);
        body.append(t.el);
        // In a grid, the console clicked or typed into comes to the front (search, follow, copy act on it).
        t.el.addEventListener('focusin', () => {
          if (current !== t) select(t.domid, false);
        });
      }
    }
    renderTabs();
    // Show the first guest's console (what a new user wants to see), else dom0's.
    if (current === undefined || !terms.has(current.domid)) {
      const first = list.find((c) => c.domid !== 0) ?? list[0];
      if (first !== undefined) select(first.domid);
    } else arrange();
  });
  ctx.session.on('console', (c) => {
    const t = terms.get(c.domid);
    if (t === undefined) return;
    if (c.reset) t.reset(c.bytes);
    else t.write(c.bytes);
  });
  ctx.session.on('status', () => {
    const info = ctx.session.info;
    if (info === undefined) return;
    let changed = false;
    for (const c of info.consoles) {
      const was = infos.get(c.domid);
      if (was !== undefined && was.alive !== c.alive) changed = true;
    }
    if (changed) {
      for (const c of info.consoles) infos.set(c.domid, c);
      renderTabs();
    }
  });
  ctx.theme.on('change', () => {
    for (const t of terms.values()) t.setColors(ctx.theme.terminal);
  });

  const find = (back: boolean): void => {
    const q = searchInput.value;
    if (current === undefined || q === '') return;
    current.flush();
    const found = back ? current.search.findPrevious(q, { caseSensitive: false }) : current.search.findNext(q, { caseSensitive: false });
    searchInput.classList.toggle('xl-not-found', !found);
  };
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      find(e.shiftKey);
    } else if (e.key === 'Escape') {
      searchInput.value = '';
      current?.search.clearDecorations();
      current?.focus();
    }
  });
  searchInput.addEventListener('input', () => {
    if (searchInput.value === '') searchInput.classList.remove('xl-not-found');
    else find(false);
  });
  prevBtn.addEventListener('click', () => find(true));
  nextBtn.addEventListener('click', () => find(false));
  followBtn.addEventListener('click', () => {
    if (current === undefined) return;
    current.follow = !current.follow;
    followBtn.setAttribute('aria-pressed', String(current.follow));
    if (current.follow) current.term.scrollToBottom();
  });
  const copy = (): void => {
    const text = current?.term.getSelection() ?? '';
    if (text === '') return;
    navigator.clipboard.writeText(text).then(
      () => ctx.notify('Copied to the clipboard'),
      () => ctx.notify('The clipboard refused the copy', 'error'),
    );
  };
  copyBtn.addEventListener('click', copy);
  // Ctrl+F searches, Ctrl+Shift+C copies; everything else goes to the guest.
  body.addEventListener(
    'keydown',
    (e) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.shiftKey && e.key.toLowerCase() === 'f') {
        e.preventDefault();
        e.stopPropagation();
        searchInput.focus();
        searchInput.select();
      } else if (mod && e.shiftKey && e.key.toLowerCase() === 'c') {
        e.preventDefault();
        e.stopPropagation();
        copy();
      }
    },
    true,
  );

  exposeForTests(terms);

  return {
    shown() {
      visible = true;
      arrange();
    },
    hidden() {
      visible = false;
      for (const t of terms.values()) t.hide();
    },
    resized() {
      if (body.classList.contains('xl-grid')) for (const t of terms.values()) t.resize();
      else current?.resize();
    },
  };
}

declare global {
  interface Window {
    /** With debug=1 in the page's address: read-only views of the terminals, for end-to-end tests. */
    __xenlabDebug?: { consoleText(domid: number): string; renderer(domid: number): string | undefined };
  }
}

function exposeForTests(terms: ReadonlyMap<number, DomainTerminal>): void {
  if (new URLSearchParams(location.search).get('debug') !== '1') return;
  window.__xenlabDebug = {
    consoleText(domid) {
      const t = terms.get(domid);
      if (t === undefined) return '';
      t.flush();
      const buf = t.term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
      return lines.join('\n').replace(/\n+$/, '');
    },
    renderer: (domid) => terms.get(domid)?.renderer,
  };
}

export const consolesView: View = {
  id: 'consoles',
  title: 'Consoles',
  area: 'side',
  order: 0,
  command: 'view.consoles',
  keys: COMMAND_KEYS['view.consoles'],
  mount,
};
