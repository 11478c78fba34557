/**
 * Files as the UI reaches them: read with the scenario reader's limits,
 * written atomically (a temporary file beside the target, renamed into
 * place: a failed write leaves the old file as it was and says why) with a
 * check that the file did not change on disk since it was read, listed for
 * the in-app picker, and remembered as recent files in the data folder.
 *
 * In web mode every path must lie inside one of the roots, after symlinks
 * are resolved (a link pointing out of a root is refused like any path
 * outside): the page is a browser tab, and the host gives it only those
 * folders. The desktop app may reach any absolute path (its native dialogs
 * choose them).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { HostError, type HostMode } from '../../contract/api.js';
import type { DirEntry, DirListing, FileText, RecentFile, SaveResult } from '../../contract/files.js';
import { ScenarioInputError } from '../../scenario/errors.js';
import { looksLikeRecording } from '../../scenario/recording.js';
import { AtomicFile, FileError, MAX_SCENARIO_BYTES, readRecordingText, readScenarioText, reason } from '../files.js';
import { fileHostError } from './host_errors.js';

export interface Root {
  name: string;
  path: string;
}

/** Recent files kept. */
export const RECENT_MAX = 20;

/** How the editor treats a file, from its name (and a peek, for JSON). */
export function fileLang(path: string, text: string): FileText['lang'] {
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (/^\.[mc]?ts$/.test(ext) && !/\.d\.[mc]?ts$/i.test(path)) return 'typescript';
  if (ext === '.json' && /^\s*\{/.test(text)) {
    try {
      if (looksLikeRecording(JSON.parse(text))) return 'recording';
    } catch {
      // not JSON: plain text
    }
  }
  return 'text';
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false; // not there yet
  }
}

function hostErrorOf(e: unknown): HostError {
  if (e instanceof HostError) return e;
  if (e instanceof ScenarioInputError) return new HostError('input', e.problems[0]?.message ?? e.message);
  if (e instanceof FileError) return fileHostError(e);
  return new HostError('io', reason(e));
}

export class FileService {
  private readonly realRoots: Root[];

  constructor(
    private readonly mode: HostMode,
    readonly roots: readonly Root[],
    private readonly dataDir: string,
  ) {
    this.realRoots = roots.map((r) => {
      try {
        return { name: r.name, path: realpathSync(r.path) };
      } catch {
        return { name: r.name, path: resolve(r.path) };
      }
    });
  }

  /** The real path of an existing file or folder the UI may read. */
  forRead(path: string): string {
    this.absolute(path);
    let real: string;
    try {
      real = realpathSync(path);
    } catch (e) {
      throw new HostError('not-found', `cannot open ${path}: ${reason(e)}`);
    }
    this.inside(path, real);
    return real;
  }

  /** The real path a write to `path` goes to (through a symlink, to its target), checked against the roots. */
  forWrite(path: string): string {
    this.absolute(path);
    let real: string;
    try {
      real = isSymlink(path) ? realpathSync(path) : join(realpathSync(dirname(path)), basename(path));
    } catch (e) {
      throw new HostError('not-found', `cannot write ${path}: ${reason(e)} (the folder must exist)`);
    }
    this.inside(path, real);
    return real;
  }

  private absolute(path: string): void {
    if (!isAbsolute(path)) throw new HostError('bad-request', `expected an absolute path, found "${path}"`);
  }

  private inside(path: string, real: string): void {
    if (this.mode !== 'web') return;
    for (const r of this.realRoots) {
      const rel = relative(r.path, real);
      if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return;
    }
    const allowed = this.roots.map((r) => `${r.name} (${r.path})`).join(', ');
    throw new HostError('denied', `${path} is outside the folders this lab may use in a browser: ${allowed || 'none'}`);
  }

  read(path: string): FileText {
    const real = this.forRead(path);
    try {
      const text = readScenarioText(real);
      const mtimeMs = statSync(real).mtimeMs;
      this.remember(path);
      return { path, text, mtimeMs, lang: fileLang(path, text) };
    } catch (e) {
      throw hostErrorOf(e);
    }
  }

  /** A recording's text (recordings may be far larger than a scenario). */
  readRecording(path: string): string {
    const real = this.forRead(path);
    try {
      const text = readRecordingText(real);
      this.remember(path);
      return text;
    } catch (e) {
      throw hostErrorOf(e);
    }
  }

  write(path: string, text: string, expectedMtimeMs?: number): SaveResult {
    if (text.length > MAX_SCENARIO_BYTES) throw new HostError('input', `the text is ${(text.length / 2 ** 20).toFixed(1)} MiB; a scenario may be at most ${MAX_SCENARIO_BYTES / 2 ** 20} MiB`);
    const real = this.forWrite(path);
    if (expectedMtimeMs !== undefined) {
      let mtime: number | undefined;
      try {
        mtime = statSync(real).mtimeMs;
      } catch {
        mtime = undefined; // gone since it was read: saving puts it back
      }
      if (mtime !== undefined && Math.abs(mtime - expectedMtimeMs) > 1) {
        throw new HostError('conflict', `${path} changed on disk since it was opened (modified ${new Date(mtime).toLocaleString()}): save it under another name, or reopen it to see the change`);
      }
    }
    const r = this.writeAtomic(real, text, path);
    this.remember(path);
    return r;
  }

  /** Writes text to a path already checked (forWrite) atomically. */
  writeAtomic(real: string, text: string, shown = real): SaveResult {
    let file: AtomicFile;
    try {
      file = new AtomicFile(real);
    } catch (e) {
      throw new HostError('io', `cannot save ${shown}: ${e instanceof FileError ? e.message.replace(/^cannot write [^:]*: /, '') : reason(e)}; nothing was changed`);
    }
    const bytes = Buffer.byteLength(text);
    try {
      file.write(text);
      file.commit();
    } catch (e) {
      file.abort();
      throw new HostError('io', `cannot save ${shown}: ${reason(e)}; the file was left as it was`);
    }
    return { path: shown, mtimeMs: statSync(real).mtimeMs, bytes };
  }

  list(path: string): DirListing {
    const real = this.forRead(path);
    let names: string[];
    try {
      names = readdirSync(real);
    } catch (e) {
      throw new HostError(/ENOTDIR/.test(String((e as { code?: string }).code)) ? 'bad-request' : 'io', `cannot list ${path}: ${reason(e)}`);
    }
    const entries: DirEntry[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = join(path, name);
      try {
        const st = statSync(p);
        if (this.mode === 'web') this.inside(p, realpathSync(p));
        if (st.isDirectory() || st.isFile()) entries.push({ name, path: p, kind: st.isDirectory() ? 'dir' : 'file' });
      } catch {
        // a dangling link, or a link out of the roots: not shown
      }
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    return { path, entries };
  }

  recent(): RecentFile[] {
    return this.loadRecent().filter((r) => {
      try {
        this.forRead(r.path);
        return true;
      } catch {
        return false;
      }
    });
  }

  private recentFile(): string {
    return join(this.dataDir, 'recent.json');
  }

  private loadRecent(): RecentFile[] {
    try {
      const doc = JSON.parse(readFileSync(this.recentFile(), 'utf8')) as unknown;
      if (!Array.isArray(doc)) return [];
      return doc.filter((x): x is RecentFile => typeof x === 'object' && x !== null && typeof (x as RecentFile).path === 'string' && typeof (x as RecentFile).openedAtMs === 'number');
    } catch {
      return [];
    }
  }

  /** Puts `path` first in the recent files (a failure to remember is not the user's problem: ignored). */
  remember(path: string): void {
    try {
      const list = [{ path, openedAtMs: Date.now() }, ...this.loadRecent().filter((r) => r.path !== path)].slice(0, RECENT_MAX);
      mkdirSync(this.dataDir, { recursive: true });
      const f = new AtomicFile(this.recentFile());
      try {
        f.write(`${JSON.stringify(list, null, 1)}\n`);
        f.commit();
      } catch {
        f.abort();
      }
    } catch {
      // the data folder cannot be written: recent files are a convenience
    }
  }
}
