/**
 * Small floating lists for the event list: the filter's completions and
 * history (a listbox driven from the input's keys, the input keeping the
 * focus) and the right-click menu (a menu taking the focus). Placed with
 * fixed coordinates so no pane clips them; kept inside the window.
 */
import { h } from '../../util/dom.js';

export interface PopupItem {
  label: string;
  detail?: string;
  /** Shown after the label, in code style (the filter a menu item makes). */
  code?: string;
  disabled?: boolean;
  separator?: boolean;
}

/** Keeps a popup's box inside the window, below (or above) the point given. */
function place(el: HTMLElement, x: number, y: number, above = 0): void {
  el.style.left = '0px';
  el.style.top = '0px';
  const r = el.getBoundingClientRect();
  const left = Math.max(4, Math.min(x, innerWidth - r.width - 4));
  const top = y + r.height > innerHeight - 4 && y - above - r.height > 4 ? y - above - r.height : Math.max(4, Math.min(y, innerHeight - r.height - 4));
  el.style.left = `${Math.round(left)}px`;
  el.style.top = `${Math.round(top)}px`;
}

let nextId = 0;

/** A listbox the input drives: move, accept, close; the input keeps the focus (aria-activedescendant). */
export class ListPopup {
  readonly el: HTMLElement;
  items: PopupItem[] = [];
  active = 0;
  private readonly id = `xl-ev-pop-${++nextId}`;

  constructor(
    private readonly owner: HTMLInputElement,
    label: string,
    private readonly onAccept: (index: number) => void,
  ) {
    this.el = h('div', { class: 'xl-ev-popup', role: 'listbox', id: this.id, 'aria-label': label });
    this.el.addEventListener('mousedown', (e) => {
      e.preventDefault(); // the input keeps the focus
      const opt = (e.target as Element).closest<HTMLElement>('[data-i]');
      if (opt !== null) this.onAccept(Number(opt.dataset.i));
    });
    owner.setAttribute('aria-controls', this.id);
    owner.setAttribute('aria-expanded', 'false');
  }

  get open(): boolean {
    return this.el.isConnected;
  }

  show(items: PopupItem[], x: number, y: number, above: number): void {
    this.items = items;
    this.active = 0;
    this.el.replaceChildren(
      ...items.map((it, i) =>
        h(
          'div',
          { class: 'xl-ev-option', role: 'option', id: `${this.id}-${i}`, 'data-i': String(i), 'aria-selected': String(i === 0) },
          h('span', { class: 'xl-ev-option-label' }, it.label),
          it.detail === undefined ? undefined : h('span', { class: 'xl-ev-option-detail' }, it.detail),
        ),
      ),
    );
    if (!this.open) document.body.append(this.el);
    place(this.el, x, y, above);
    this.owner.setAttribute('aria-expanded', 'true');
    this.mark();
  }

  move(by: number): void {
    if (this.items.length === 0) return;
    this.active = (this.active + by + this.items.length) % this.items.length;
    this.mark();
  }

  close(): void {
    this.el.remove();
    this.owner.setAttribute('aria-expanded', 'false');
    this.owner.removeAttribute('aria-activedescendant');
  }

  private mark(): void {
    for (const o of this.el.children) o.setAttribute('aria-selected', String(o.id === `${this.id}-${this.active}`));
    const el = this.el.children[this.active] as HTMLElement | undefined;
    el?.scrollIntoView({ block: 'nearest' });
    this.owner.setAttribute('aria-activedescendant', `${this.id}-${this.active}`);
  }
}

/** A right-click menu at a point: items as buttons, arrows and Enter, Escape or a click outside closes it. */
export function contextMenu(items: (PopupItem & { run?: () => void })[], x: number, y: number, restoreFocus?: HTMLElement): () => void {
  const menu = h('div', { class: 'xl-menu xl-ev-menu', role: 'menu', 'data-testid': 'event-menu' });
  const close = (): void => {
    menu.remove();
    document.removeEventListener('pointerdown', outside, true);
    window.removeEventListener('blur', close);
    restoreFocus?.focus({ preventScroll: true });
  };
  const outside = (e: Event): void => {
    if (!menu.contains(e.target as Node)) close();
  };
  for (const it of items) {
    if (it.separator === true) {
      menu.append(h('div', { class: 'xl-menu-sep', role: 'separator' }));
      continue;
    }
    const b = h(
      'button',
      { class: 'xl-menu-item', role: 'menuitem', disabled: it.disabled === true, title: it.detail },
      h('span', { class: 'xl-menu-label' }, it.label),
      it.code === undefined ? undefined : h('code', { class: 'xl-menu-keys xl-ev-menu-code' }, it.code),
    );
    b.addEventListener('click', () => {
      close();
      it.run?.();
    });
    menu.append(b);
  }
  menu.addEventListener('keydown', (e) => {
    const buttons = [...menu.querySelectorAll<HTMLButtonElement>('.xl-menu-item:not([disabled])')];
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      buttons[(i + (e.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length]?.focus();
    } else if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  document.body.append(menu);
  place(menu, x, y);
  menu.querySelector<HTMLButtonElement>('.xl-menu-item:not([disabled])')?.focus();
  setTimeout(() => {
    document.addEventListener('pointerdown', outside, true);
    window.addEventListener('blur', close);
  });
  return close;
}
