/**
 * Modal dialogs: a question with buttons (Escape answers "cancel"), a
 * message, and the in-app file picker the web mode uses instead of native
 * dialogs (it browses the host's roots through files.list).
 */
import type { HostApi } from '../../../contract/api.js';
import type { DirEntry } from '../../../contract/files.js';
import { h, icon } from '../util/dom.js';
import { asHostError } from '../host/connect.js';

export interface Button<T> {
  label: string;
  value: T;
  primary?: boolean;
  danger?: boolean;
}

let open = 0;

/** Whether a dialog is up (shortcuts that would act behind it wait). */
export function dialogOpen(): boolean {
  return open > 0;
}

/** Shows a modal; resolves with the chosen button's value, or undefined (Escape, the close box). */
export function modal<T>(title: string, body: Node, buttons: Button<T>[], opts: { wide?: boolean; onEnter?: () => T | undefined; testId?: string } = {}): Promise<T | undefined> {
  return new Promise((resolve) => {
    const before = document.activeElement as HTMLElement | null;
    const close = (v: T | undefined): void => {
      open--;
      overlay.remove();
      before?.focus?.();
      resolve(v);
    };
    const footer = h('div', { class: 'xl-dialog-buttons' });
    for (const b of buttons) {
      footer.append(h('button', { class: `xl-button${b.primary ? ' xl-primary' : ''}${b.danger ? ' xl-danger' : ''}`, onclick: () => close(b.value) }, b.label));
    }
    const box = h(
      'div',
      { class: `xl-dialog${opts.wide ? ' xl-dialog-wide' : ''}`, role: 'dialog', 'aria-modal': 'true', 'aria-label': title, 'data-testid': opts.testId },
      h('div', { class: 'xl-dialog-title' }, h('span', {}, title), h('button', { class: 'xl-icon-button', title: 'Close (Escape)', onclick: () => close(undefined) }, icon('close'))),
      h('div', { class: 'xl-dialog-body' }, body),
      footer,
    );
    const overlay = h('div', { class: 'xl-overlay' }, box);
    overlay.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        close(undefined);
      } else if (e.key === 'Enter' && opts.onEnter !== undefined && !(e.target instanceof HTMLButtonElement)) {
        const v = opts.onEnter();
        if (v !== undefined) {
          e.preventDefault();
          close(v);
        }
      }
    });
    open++;
    document.body.append(overlay);
    const first = box.querySelector<HTMLElement>('input, .xl-primary, button.xl-button');
    first?.focus();
  });
}

export function message(title: string, text: string): Promise<void> {
  return modal(title, h('p', { class: 'xl-dialog-text' }, text), [{ label: 'OK', value: undefined, primary: true }]).then(() => undefined);
}

export type UnsavedAnswer = 'save' | 'discard' | undefined;

/** "plan9-boot.yaml has unsaved changes." Save / Don't save / Cancel. */
export function askUnsaved(name: string, doing: string): Promise<UnsavedAnswer> {
  return modal<UnsavedAnswer>(
    'Unsaved changes',
    h('p', { class: 'xl-dialog-text' }, `${name} has changes that are not saved. Save them before ${doing}?`),
    [
      { label: 'Save', value: 'save', primary: true },
      { label: "Don't save", value: 'discard', danger: true },
      { label: 'Cancel', value: undefined },
    ],
  );
}

export interface PickerOptions {
  mode: 'open' | 'save';
  title: string;
  roots: { name: string; path: string }[];
  /** Folder to start in (defaults to the first root). */
  start?: string;
  /** Suggested file name (save). */
  suggested?: string;
  /** File names shown (others are greyed out in open mode). */
  accept?: RegExp;
}

function parentOf(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The in-app file picker (web mode): the roots on the left, a folder's files on the right. */
export function pickFile(host: HostApi, opts: PickerOptions): Promise<string | undefined> {
  const list = h('div', { class: 'xl-picker-list', role: 'listbox', tabindex: '0', 'aria-label': 'Files' });
  const where = h('div', { class: 'xl-picker-where' });
  const err = h('div', { class: 'xl-picker-error', role: 'alert' });
  const name = h('input', { class: 'xl-input', type: 'text', spellcheck: 'false', 'aria-label': 'File name', placeholder: 'file name', value: opts.suggested ?? '' });
  const rootList = h('div', { class: 'xl-picker-roots' });
  let folder = opts.start ?? opts.roots[0]?.path ?? '/';
  let entries: DirEntry[] = [];
  let selected = -1;
  let choose: (path: string | undefined) => void = () => {};

  const inRoot = (p: string): boolean => opts.roots.some((r) => p === r.path || p.startsWith(`${r.path}/`));
  const render = (): void => {
    list.replaceChildren();
    const rows: HTMLElement[] = [];
    if (opts.roots.every((r) => r.path !== folder) && inRoot(parentOf(folder))) {
      rows.push(h('div', { class: 'xl-picker-row xl-picker-up', role: 'option', ondblclick: () => go(parentOf(folder)), onclick: () => go(parentOf(folder)) }, icon('up'), '..'));
    }
    entries.forEach((e, i) => {
      const off = e.kind === 'file' && opts.accept !== undefined && !opts.accept.test(e.name);
      const row = h(
        'div',
        { class: `xl-picker-row${i === selected ? ' xl-selected' : ''}${off ? ' xl-off' : ''}`, role: 'option', 'aria-selected': String(i === selected), 'data-name': e.name },
        icon(e.kind === 'dir' ? 'folder' : 'file'),
        e.name,
      );
      row.addEventListener('click', () => {
        selected = i;
        if (e.kind === 'file') name.value = e.name;
        render();
      });
      row.addEventListener('dblclick', () => activate(i));
      rows.push(row);
    });
    if (entries.length === 0) rows.push(h('div', { class: 'xl-picker-empty' }, 'This folder is empty.'));
    list.append(...rows);
    where.textContent = folder;
  };
  const go = (path: string): void => {
    host.request('files.list', { path }).then(
      (l) => {
        folder = l.path;
        entries = l.entries;
        selected = -1;
        err.textContent = '';
        render();
      },
      (e: unknown) => {
        err.textContent = asHostError(e).message;
      },
    );
  };
  const activate = (i: number): void => {
    const e = entries[i];
    if (e === undefined) return;
    if (e.kind === 'dir') go(e.path);
    else choose(e.path);
  };
  const target = (): string | undefined => {
    const n = name.value.trim();
    if (n === '') return undefined;
    if (n.includes('/')) {
      err.textContent = 'a file name, without "/"';
      return undefined;
    }
    return `${folder.replace(/\/+$/, '')}/${n}`;
  };
  list.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      selected = Math.max(0, Math.min(entries.length - 1, selected + (e.key === 'ArrowDown' ? 1 : -1)));
      if (entries[selected]?.kind === 'file') name.value = entries[selected]!.name;
      render();
    } else if (e.key === 'Enter' && selected >= 0) {
      e.preventDefault();
      e.stopPropagation();
      activate(selected);
    } else if (e.key === 'Backspace' && inRoot(parentOf(folder)) && opts.roots.every((r) => r.path !== folder)) go(parentOf(folder));
  });
  for (const r of opts.roots) rootList.append(h('button', { class: 'xl-picker-root', title: r.path, onclick: () => go(r.path) }, icon('folder'), r.name));
  const body = h(
    'div',
    { class: 'xl-picker' },
    rootList,
    h('div', { class: 'xl-picker-main' }, where, list, h('label', { class: 'xl-picker-name' }, h('span', {}, opts.mode === 'save' ? 'Save as' : 'File'), name), err),
  );
  go(folder);
  const done = modal<'ok'>(opts.title, body, [
    { label: opts.mode === 'save' ? 'Save' : 'Open', value: 'ok', primary: true },
    { label: 'Cancel', value: undefined as unknown as 'ok' },
  ], { wide: true, testId: 'file-picker', onEnter: () => (target() === undefined ? undefined : 'ok') });
  return new Promise((resolve) => {
    choose = (path) => {
      resolve(path);
      (document.querySelector('.xl-overlay [data-testid="file-picker"] .xl-dialog-title button') as HTMLButtonElement | null)?.click();
    };
    void done.then((v) => {
      if (v === 'ok') resolve(target());
      else resolve(undefined);
    });
  });
}
