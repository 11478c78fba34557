/**
 * The notice strip under the toolbar: the connection banner (lost,
 * reconnecting, back) and short messages that fade (saved, an error with
 * its reason, which stays until dismissed).
 */
import { h, icon } from '../util/dom.js';

export class Notices {
  private banner: HTMLElement | undefined;

  constructor(private readonly el: HTMLElement) {}

  /** A message that stays until replaced or cleared (the connection). */
  setBanner(text: string | undefined, kind: 'error' | 'info' = 'error'): void {
    this.banner?.remove();
    this.banner = undefined;
    if (text === undefined) return;
    this.banner = h('div', { class: `xl-notice xl-notice-${kind} xl-banner`, role: 'alert', 'data-testid': 'banner' }, text);
    this.el.prepend(this.banner);
  }

  /** A passing message; errors stay until closed. */
  show(text: string, kind: 'info' | 'error' = 'info'): void {
    const close = h('button', { class: 'xl-icon-button', title: 'Dismiss' }, icon('close'));
    const n = h('div', { class: `xl-notice xl-notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('span', {}, text), close);
    close.addEventListener('click', () => n.remove());
    this.el.append(n);
    while (this.el.querySelectorAll('.xl-notice:not(.xl-banner)').length > 3) this.el.querySelector('.xl-notice:not(.xl-banner)')?.remove();
    if (kind === 'info') setTimeout(() => n.remove(), 4000);
  }
}
