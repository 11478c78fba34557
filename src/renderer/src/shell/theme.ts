/**
 * Dark or light, following the system (prefers-color-scheme), as a
 * data-theme attribute on <html> for the stylesheet; Monaco and xterm ask
 * for their own colours here and follow changes.
 */
import { Emitter } from '../util/emitter.js';

export type ThemeName = 'dark' | 'light';

export interface TerminalColors {
  background: string;
  foreground: string;
  cursor: string;
  selectionBackground: string;
}

const TERMINAL: Record<ThemeName, TerminalColors> = {
  dark: { background: '#181818', foreground: '#d6d6d6', cursor: '#d6d6d6', selectionBackground: '#264f78' },
  light: { background: '#fbfbfb', foreground: '#222222', cursor: '#222222', selectionBackground: '#add6ff' },
};

export class Theme extends Emitter<{ change: ThemeName }> {
  name: ThemeName;
  private readonly query = matchMedia('(prefers-color-scheme: light)');

  constructor() {
    super();
    this.name = this.query.matches ? 'light' : 'dark';
    this.apply();
    this.query.addEventListener('change', () => {
      this.name = this.query.matches ? 'light' : 'dark';
      this.apply();
      this.emit('change', this.name);
    });
  }

  get monaco(): string {
    return this.name === 'light' ? 'vs' : 'vs-dark';
  }

  get terminal(): TerminalColors {
    return TERMINAL[this.name];
  }

  private apply(): void {
    document.documentElement.dataset.theme = this.name;
    document.documentElement.style.colorScheme = this.name;
  }
}
