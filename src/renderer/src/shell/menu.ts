/**
 * Drop-down menus for the toolbar (File, View, Session): each item a
 * command with its shortcut shown on the right, or a submenu of entries
 * (recent files). Keyboard: arrows, Enter, Escape.
 */
import { h } from '../util/dom.js';
import { keyLabel, type Commands } from './commands.js';

export type MenuItem = { command: string } | { label: string; run: () => void; hint?: string } | { separator: true } | { heading: string };

export class Menu {
  readonly button: HTMLButtonElement;
  private popup: HTMLElement | undefined;

  constructor(
    label: string,
    private readonly commands: Commands,
    private readonly items: () => MenuItem[],
  ) {
    this.button = h('button', { class: 'xl-menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'data-menu': label }, label);
    this.button.addEventListener('click', () => (this.popup === undefined ? this.open() : this.close()));
    this.button.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        this.open();
      }
    });
  }

  private open(): void {
    const popup = h('div', { class: 'xl-menu', role: 'menu' });
    for (const item of this.items()) {
      if ('separator' in item) popup.append(h('div', { class: 'xl-menu-sep', role: 'separator' }));
      else if ('heading' in item) popup.append(h('div', { class: 'xl-menu-heading' }, item.heading));
      else {
        const c = 'command' in item ? this.commands.get(item.command) : undefined;
        const label = 'command' in item ? (c?.title ?? item.command) : item.label;
        const hint = 'command' in item ? (c?.keys === undefined ? '' : keyLabel(c.keys)) : (item.hint ?? '');
        const disabled = c?.enabled !== undefined && !c.enabled();
        const el = h('button', { class: 'xl-menu-item', role: 'menuitem', disabled, title: 'label' in item ? item.hint : undefined }, h('span', { class: 'xl-menu-label' }, label), h('span', { class: 'xl-menu-keys' }, hint));
        el.addEventListener('click', () => {
          this.close();
          if ('command' in item) this.commands.run(item.command);
          else item.run();
        });
        popup.append(el);
      }
    }
    popup.addEventListener('keydown', (e) => {
      const items = [...popup.querySelectorAll<HTMLButtonElement>('.xl-menu-item:not([disabled])')];
      const i = items.indexOf(document.activeElement as HTMLButtonElement);
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        items[(i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length]?.focus();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        this.close();
        this.button.focus();
      }
    });
    const r = this.button.getBoundingClientRect();
    popup.style.left = `${Math.round(r.left)}px`;
    popup.style.top = `${Math.round(r.bottom + 2)}px`;
    document.body.append(popup);
    this.popup = popup;
    this.button.setAttribute('aria-expanded', 'true');
    popup.querySelector<HTMLButtonElement>('.xl-menu-item:not([disabled])')?.focus();
    setTimeout(() => document.addEventListener('pointerdown', this.outside, true));
  }

  private readonly outside = (e: Event): void => {
    if (this.popup?.contains(e.target as Node) || this.button.contains(e.target as Node)) return;
    this.close();
  };

  close(): void {
    this.popup?.remove();
    this.popup = undefined;
    this.button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', this.outside, true);
  }
}
