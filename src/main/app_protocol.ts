/**
 * The renderer's own origin, app://xenlab/, served from out/renderer by protocol.handle.
 *
 * Why not file://: Monaco's workers and ES modules need a real origin, and file:// pages get
 * extra privileges (the grantFileProtocolExtraPrivileges fuse is off in the packaging config).
 * Like ./security.ts this module has no run-time Electron import, so
 * test/main/app_protocol.test.ts serves real files through it in Node.
 */
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { CustomScheme } from 'electron';
import { CONTENT_SECURITY_POLICY } from './security.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'xenlab';
/** The page's origin: what IPC senders, navigation and requests are checked against. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page the window loads in a built app. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * protocol.registerSchemesAsPrivileged entry (before 'ready'): a standard scheme (real origin,
 * relative URLs), secure (a secure context, like https), fetch() allowed, V8 code cache.
 * Nothing else: no service workers, no CORS for other origins, no CSP bypass.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

/** The Content-Type for a file, by its extension; unknown kinds are served as bytes. */
export function mimeTypeFor(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file under `root` an app:// URL names, or null when it names none: another scheme or host,
 * a malformed escape, a NUL or backslash, or a path that leaves `root` (`..`, encoded or not —
 * checked after decoding, on the resolved path). '/' is index.html; query and fragment are ignored.
 */
export function rendererFileFor(url: string, root: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.hostname !== APP_HOST || parsed.port !== '') return null;
  if (parsed.username !== '' || parsed.password !== '') return null;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  if (path === '' || path === '/') path = '/index.html';
  const base = resolve(root);
  const file = resolve(base, `.${path}`);
  const inside = relative(base, file);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return null;
  return file;
}

/** Headers every app:// response carries: the CSP, no MIME sniffing, never cached across builds. */
function baseHeaders(contentType: string): Headers {
  return new Headers({
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  });
}

function refusal(status: number, text: string): Response {
  return new Response(text, { status, headers: baseHeaders('text/plain; charset=utf-8') });
}

export type ReadFile = (path: string) => Promise<Uint8Array>;

/**
 * protocol.handle(APP_SCHEME, ...) handler: GET and HEAD of files under `root`, with their MIME
 * type and the CSP; 404 for anything outside `root` or missing, 405 for other methods.
 * `log` hears about refused paths (a traversal attempt is worth a line in the log).
 */
export async function serveRendererRequest(
  request: Pick<Request, 'url' | 'method'>,
  root: string,
  log: (message: string) => void = () => {},
  read: ReadFile = readFile,
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405, 'method not allowed');
  const file = rendererFileFor(request.url, root);
  if (file === null) {
    log(`XenLab: refused ${request.url}: not a file of the app`);
    return refusal(404, 'not found');
  }
  let body: Uint8Array;
  try {
    body = await read(file);
  } catch {
    return refusal(404, 'not found');
  }
  const headers = baseHeaders(mimeTypeFor(file));
  headers.set('Content-Length', String(body.byteLength));
  return new Response(request.method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers });
}
