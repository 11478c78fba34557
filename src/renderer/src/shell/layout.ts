/**
 * The window's frame: toolbar, the main and side areas side by side, the
 * bottom panel, the status bar; splitters between them that remember where
 * they were left (localStorage). Each area shows one view at a time, with a
 * tab per view.
 */
import { h } from '../util/dom.js';
import type { Area, ViewHandle } from './registry.js';

const STORAGE_KEY = 'xenlab.layout.v1';

interface Saved {
  /** Width of the main area, as a fraction of the window. */
  main: number;
  /** Height of the bottom panel, px. */
  bottom: number;
  bottomOpen: boolean;
  /** The view shown in each area. */
  active: Partial<Record<Area, string>>;
}

function load(): Saved {
  const dflt: Saved = { main: 0.5, bottom: 170, bottomOpen: true, active: {} };
  try {
    const s = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<Saved>;
    return {
      main: typeof s.main === 'number' && s.main > 0.15 && s.main < 0.85 ? s.main : dflt.main,
      bottom: typeof s.bottom === 'number' && s.bottom >= 60 && s.bottom < 2000 ? s.bottom : dflt.bottom,
      bottomOpen: typeof s.bottomOpen === 'boolean' ? s.bottomOpen : true,
      active: typeof s.active === 'object' && s.active !== null ? s.active : {},
    };
  } catch {
    return dflt;
  }
}

interface Tab {
  id: string;
  button: HTMLButtonElement;
  badge: HTMLSpanElement;
  pane: HTMLElement;
  handle: ViewHandle | undefined;
}

export class AreaPanel {
  readonly el: HTMLElement;
  private readonly strip: HTMLElement;
  private readonly body: HTMLElement;
  private readonly tabs: Tab[] = [];
  active: Tab | undefined;
  private readonly observer: ResizeObserver;

  constructor(
    readonly area: Area,
    private readonly onActivate: (area: Area, id: string) => void,
  ) {
    this.strip = h('div', { class: 'xl-tabs', role: 'tablist' });
    this.body = h('div', { class: 'xl-area-body' });
    this.el = h('section', { class: `xl-area xl-area-${area}`, 'data-area': area }, this.strip, this.body);
    let frame = 0;
    this.observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => this.active?.handle?.resized?.());
    });
    this.observer.observe(this.body);
  }

  /** Adds a view's tab and its pane (hidden until shown). */
  add(id: string, title: string, tooltip: string): { pane: HTMLElement; setBadge(t: string | undefined): void; setHandle(h: ViewHandle | undefined): void } {
    const badge = h('span', { class: 'xl-badge' });
    const button = h('button', { class: 'xl-tab', role: 'tab', 'data-view': id, title: tooltip, 'aria-selected': 'false', onclick: () => this.show(id) }, title, badge);
    const pane = h('div', { class: 'xl-pane', 'data-view': id, role: 'tabpanel' });
    pane.hidden = true;
    this.strip.append(button);
    this.body.append(pane);
    const tab: Tab = { id, button, badge, pane, handle: undefined };
    this.tabs.push(tab);
    return {
      pane,
      setBadge: (t) => {
        badge.textContent = t ?? '';
        badge.hidden = t === undefined;
      },
      setHandle: (hd) => {
        tab.handle = hd;
        if (this.active === tab) hd?.shown?.();
      },
    };
  }

  has(id: string): boolean {
    return this.tabs.some((t) => t.id === id);
  }

  show(id: string): void {
    const tab = this.tabs.find((t) => t.id === id);
    if (tab === undefined || this.active === tab) return;
    const prev = this.active;
    if (prev !== undefined) {
      prev.pane.hidden = true;
      prev.button.setAttribute('aria-selected', 'false');
      prev.handle?.hidden?.();
    }
    this.active = tab;
    tab.pane.hidden = false;
    tab.button.setAttribute('aria-selected', 'true');
    tab.handle?.shown?.();
    this.onActivate(this.area, id);
  }
}

export class Layout {
  readonly root: HTMLElement;
  readonly toolbar: HTMLElement;
  readonly statusbar: HTMLElement;
  readonly notices: HTMLElement;
  readonly areas: Record<Area, AreaPanel>;
  private readonly saved = load();

  constructor(mount: HTMLElement) {
    this.areas = {
      main: new AreaPanel('main', (a, id) => this.remember(a, id)),
      side: new AreaPanel('side', (a, id) => this.remember(a, id)),
      bottom: new AreaPanel('bottom', (a, id) => this.remember(a, id)),
    };
    this.toolbar = h('header', { class: 'xl-toolbar', role: 'toolbar' });
    this.statusbar = h('footer', { class: 'xl-statusbar', role: 'status' });
    this.notices = h('div', { class: 'xl-notices', 'aria-live': 'polite' });
    const vsplit = h('div', { class: 'xl-splitter xl-splitter-v', role: 'separator', 'aria-orientation': 'vertical', title: 'Drag to resize' });
    const hsplit = h('div', { class: 'xl-splitter xl-splitter-h', role: 'separator', 'aria-orientation': 'horizontal', title: 'Drag to resize; double-click to hide or show the panel' });
    const body = h('div', { class: 'xl-body' }, this.areas.main.el, vsplit, this.areas.side.el);
    this.root = h('div', { class: 'xl-app' }, this.toolbar, body, hsplit, this.areas.bottom.el, this.statusbar, this.notices);
    mount.classList.remove('xl-boot');
    mount.replaceChildren(this.root);
    this.apply();
    this.drag(vsplit, (e) => {
      const r = body.getBoundingClientRect();
      this.saved.main = Math.min(0.85, Math.max(0.15, (e.clientX - r.left) / r.width));
    });
    this.drag(hsplit, (e) => {
      const r = this.root.getBoundingClientRect();
      this.saved.bottom = Math.min(r.height - 200, Math.max(60, r.bottom - 22 - e.clientY));
      this.saved.bottomOpen = true;
    });
    hsplit.addEventListener('dblclick', () => this.toggleBottom());
  }

  /** The view each area showed last time. */
  lastActive(area: Area): string | undefined {
    return this.saved.active[area];
  }

  toggleBottom(open = !this.saved.bottomOpen): void {
    this.saved.bottomOpen = open;
    this.apply();
    this.save();
  }

  private remember(area: Area, id: string): void {
    this.saved.active[area] = id;
    if (area === 'bottom' && !this.saved.bottomOpen) this.toggleBottom(true);
    this.save();
  }

  private apply(): void {
    this.root.style.setProperty('--main-w', `${(this.saved.main * 100).toFixed(2)}%`);
    this.root.style.setProperty('--bottom-h', this.saved.bottomOpen ? `${Math.round(this.saved.bottom)}px` : '27px');
    this.root.classList.toggle('xl-bottom-closed', !this.saved.bottomOpen);
  }

  private save(): void {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(this.saved));
    } catch {
      // storage full or off: the layout is not remembered
    }
  }

  private drag(handle: HTMLElement, move: (e: PointerEvent) => void): void {
    handle.addEventListener('pointerdown', (down) => {
      down.preventDefault();
      handle.setPointerCapture(down.pointerId);
      this.root.classList.add('xl-dragging');
      const onMove = (e: PointerEvent): void => {
        move(e);
        this.apply();
      };
      const onUp = (): void => {
        handle.removeEventListener('pointermove', onMove);
        handle.removeEventListener('pointerup', onUp);
        this.root.classList.remove('xl-dragging');
        this.save();
      };
      handle.addEventListener('pointermove', onMove);
      handle.addEventListener('pointerup', onUp);
    });
  }
}
