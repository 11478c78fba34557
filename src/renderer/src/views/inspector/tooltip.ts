/** One floating tip for the inspector (a bit's port, a byte's field): placed beside the pointer, kept inside the window. */
import { h } from '../../util/dom.js';

export interface TipLine {
  text: string;
  /** 'title' (bold), 'mono' (a value), 'dim' (a comment). */
  kind?: 'title' | 'mono' | 'dim';
}

export class Tooltip {
  readonly el = h('div', { class: 'xi-tip', role: 'tooltip' });

  constructor() {
    this.el.hidden = true;
  }

  show(lines: readonly TipLine[], x: number, y: number): void {
    this.el.replaceChildren(...lines.map((l) => h('div', { class: l.kind === undefined ? 'xi-tip-line' : `xi-tip-line xi-tip-${l.kind}` }, l.text)));
    this.el.hidden = false;
    const r = this.el.getBoundingClientRect();
    const left = Math.min(x + 14, window.innerWidth - r.width - 6);
    const top = y + 18 + r.height > window.innerHeight ? y - r.height - 10 : y + 18;
    this.el.style.left = `${Math.max(4, Math.round(left))}px`;
    this.el.style.top = `${Math.max(4, Math.round(top))}px`;
  }

  hide(): void {
    this.el.hidden = true;
  }
}
