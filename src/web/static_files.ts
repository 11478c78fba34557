/**
 * The built renderer's files, served read-only: a request path maps to a
 * file inside the renderer folder or to nothing (no "..", no encoded
 * separators, no NUL, no symlink out of the folder).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  body: Buffer;
  type: string;
  /** Vite names built assets by their hash: they never change under one name. */
  immutable: boolean;
}

export class StaticFiles {
  private readonly root: string;

  constructor(rendererDir: string) {
    this.root = realpathSync(rendererDir);
  }

  /** The file for a URL path ("/", "/assets/x.js"), or undefined. */
  get(urlPath: string): StaticFile | undefined {
    let path: string;
    try {
      path = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    if (path.includes('\0') || path.includes('\\') || !path.startsWith('/')) return undefined;
    const parts = path.split('/').filter((p) => p !== '');
    if (parts.some((p) => p === '..' || p === '.')) return undefined;
    const rel = parts.length === 0 ? 'index.html' : parts.join(sep);
    let real: string;
    try {
      real = realpathSync(join(this.root, rel));
    } catch {
      return undefined;
    }
    const inside = relative(this.root, real);
    if (inside.startsWith('..') || isAbsolute(inside)) return undefined;
    try {
      if (!statSync(real).isFile()) return undefined;
      return { body: readFileSync(real), type: TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream', immutable: parts[0] === 'assets' };
    } catch {
      return undefined;
    }
  }
}
