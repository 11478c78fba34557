/**
 * The scenario being edited: its file (or none yet), language, text, the
 * text last saved and the file's mtime then (for the conflict check). The
 * editor view writes edits here; opening a file replaces it. `version`
 * counts edits, so the app knows whether the session runs what is shown.
 */
import type { ScenarioLang } from '../../contract/session.js';
import { Emitter } from './util/emitter.js';

export interface DocumentFile {
  /** Absolute path, or undefined for a buffer that has never been saved. */
  path: string | undefined;
  /** The name shown (the file's base name, or "untitled.yaml"). */
  name: string;
  lang: ScenarioLang;
  text: string;
  mtimeMs: number | undefined;
}

export interface DocumentEvents {
  /** Another file (or a new buffer) replaced the text: the editor shows it. */
  loaded: DocumentFile;
  /** The text or its saved state changed. */
  changed: { dirty: boolean; version: number };
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function langOf(name: string): ScenarioLang {
  return /\.[mc]?ts$/i.test(name) ? 'typescript' : 'yaml';
}

export class ScenarioDocument extends Emitter<DocumentEvents> {
  path: string | undefined;
  name = 'untitled.yaml';
  lang: ScenarioLang = 'yaml';
  text = '';
  private savedText = '';
  mtimeMs: number | undefined;
  version = 0;

  get dirty(): boolean {
    return this.text !== this.savedText;
  }

  /** The drafts key of this buffer. */
  get draftKey(): string {
    return this.path === undefined ? `untitled:${this.name}` : `file:${this.path}`;
  }

  /** Shows a file; `unsaved`: text recovered from a draft, shown as unsaved changes. */
  load(f: DocumentFile, unsaved?: string): void {
    this.path = f.path;
    this.name = f.name;
    this.lang = f.lang;
    this.savedText = f.path === undefined ? '' : f.text;
    this.text = unsaved ?? f.text;
    this.mtimeMs = f.mtimeMs;
    this.version++;
    this.emit('loaded', { ...f, text: this.text });
    this.emit('changed', { dirty: this.dirty, version: this.version });
  }

  /** An edit in the editor. */
  edit(text: string): void {
    if (text === this.text) return;
    this.text = text;
    this.version++;
    this.emit('changed', { dirty: this.dirty, version: this.version });
  }

  saved(path: string, mtimeMs: number, text: string): void {
    this.path = path;
    this.name = baseName(path);
    this.lang = langOf(path);
    this.mtimeMs = mtimeMs;
    this.savedText = text;
    this.emit('changed', { dirty: this.dirty, version: this.version });
  }
}
