/**
 * app://xenlab (src/main/app_protocol.ts): which file a URL names, and what the handler serves.
 * Real files in a temporary folder; Node's fetch Request/Response are what Electron's
 * protocol.handle uses too. No Electron here.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_SCHEME_PRIVILEGES, mimeTypeFor, rendererFileFor, serveRendererRequest } from '../../src/main/app_protocol.js';
import { CONTENT_SECURITY_POLICY } from '../../src/main/security.js';

let root: string;
let outside: string;
beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'xenlab-renderer-'));
  root = join(base, 'renderer');
  outside = join(base, 'secret.txt');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>XenLab</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'editor.worker-1.js'), 'self.onmessage = () => {}');
  writeFileSync(join(root, 'assets', 'codicon-2.ttf'), new Uint8Array([0, 1, 0, 0]));
  writeFileSync(join(root, 'assets', 'a b.css'), 'body{}');
  writeFileSync(outside, 'not for the page');
});

describe('rendererFileFor', () => {
  it('maps app://xenlab paths to files under the root', () => {
    expect(rendererFileFor('app://xenlab/index.html', root)).toBe(join(root, 'index.html'));
    expect(rendererFileFor('app://xenlab/', root)).toBe(join(root, 'index.html'));
    expect(rendererFileFor('app://xenlab', root)).toBe(join(root, 'index.html'));
    expect(rendererFileFor('app://xenlab/assets/index-abc.js?v=1#x', root)).toBe(join(root, 'assets', 'index-abc.js'));
    expect(rendererFileFor('app://xenlab/assets/a%20b.css', root)).toBe(join(root, 'assets', 'a b.css'));
  });

  // The URL parser already resolves plain and %2e dot segments against app://xenlab/ itself.
  it.each(['app://xenlab/../secret.txt', 'app://xenlab/%2e%2e/secret.txt', 'app://xenlab/assets/../../../secret.txt', 'app://xenlab/./%2E%2E/./secret.txt'])(
    'never names a file outside the root for %s',
    (url) => {
      const file = rendererFileFor(url, root);
      expect(file).not.toBe(outside);
      expect(file === null || file.startsWith(root + sep)).toBe(true);
    },
  );

  // Encoded separators survive the parser and are decoded here: refused after resolving.
  it.each([
    'app://xenlab/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    'app://xenlab/..%2Fsecret.txt',
    'app://xenlab/..%5Csecret.txt',
    'app://xenlab/assets\\..\\..\\secret.txt',
    'app://xenlab/index.html%00',
    'app://xenlab/%',
    'app://xenlab/%E0%A4%A',
    'app://xenlab:8080/index.html',
    'app://user:pw@xenlab/index.html',
    'app://evil/index.html',
    'https://xenlab/index.html',
    'file:///etc/passwd',
    'not a url',
  ])('names no file for %s', (url) => {
    expect(rendererFileFor(url, root)).toBeNull();
  });
});

describe('serveRendererRequest', () => {
  const get = (url: string, method = 'GET') => serveRendererRequest({ url, method }, root);

  it('serves files with their MIME type, the CSP and nosniff', async () => {
    const response = await get('app://xenlab/assets/index-abc.js');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('console.log(1)');
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'content-length': '14',
    });
  });

  it('serves Monaco worker scripts and fonts as such', async () => {
    expect((await get('app://xenlab/assets/editor.worker-1.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const font = await get('app://xenlab/assets/codicon-2.ttf');
    expect(font.headers.get('content-type')).toBe('font/ttf');
    expect(new Uint8Array(await font.arrayBuffer())).toEqual(new Uint8Array([0, 1, 0, 0]));
  });

  it('answers HEAD without a body', async () => {
    const response = await get('app://xenlab/index.html', 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('36');
    expect(await response.text()).toBe('');
  });

  it('answers 404 for missing files, folders and anything outside, and logs refusals', async () => {
    const logged: string[] = [];
    for (const url of ['app://xenlab/nope.js', 'app://xenlab/assets', 'app://xenlab/%2e%2e/secret.txt', 'app://xenlab/..%2fsecret.txt']) {
      const response = await serveRendererRequest({ url, method: 'GET' }, root, (m) => logged.push(m));
      expect(response.status, url).toBe(404);
      expect(await response.text()).not.toContain('not for the page');
    }
    expect(logged).toEqual(['XenLab: refused app://xenlab/..%2fsecret.txt: not a file of the app']);
  });

  it('refuses other methods', async () => {
    expect((await get('app://xenlab/index.html', 'PUT')).status).toBe(405);
  });
});

describe('MIME types', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['x.mjs', 'text/javascript; charset=utf-8'],
    ['x.CSS', 'text/css; charset=utf-8'],
    ['schema.json', 'application/json; charset=utf-8'],
    ['logo.svg', 'image/svg+xml'],
    ['f.woff2', 'font/woff2'],
    ['q.wasm', 'application/wasm'],
    ['blob.bin', 'application/octet-stream'],
    ['Makefile', 'application/octet-stream'],
  ])('%s is %s', (name, type) => {
    expect(mimeTypeFor(name)).toBe(type);
  });
});

it('app:// is a standard secure scheme with fetch and nothing more', () => {
  expect(APP_SCHEME_PRIVILEGES).toEqual({ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } });
});
