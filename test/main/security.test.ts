/**
 * Electron's security checklist, in full, on what the app really sets up.
 *
 * Electronegativity (the old static scanner) no longer works with current Electron; this test
 * replaces it. It starts src/main/index.ts — the real main process — against a fake 'electron'
 * module (./fake_electron.ts; the Electron binary cannot run here, and Electron is the only thing
 * faked), then reads the window options, session handlers, protocol handler and IPC handler the
 * app installed, and plays a hostile page against them. Each item fails if the app's setting is off.
 * The packaging fuses are read from electron-builder.yml.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { IPC_REQUEST } from '../../src/contract/api.js';
import { addCspHeader, CONTENT_SECURITY_POLICY, isTrustedIpcSender, originOf, secureWebPreferences } from '../../src/main/security.js';
import { bootMain, closeAllWindows, createFakeElectron, electronModule, fakeEvent, ipcEvent, type FakeElectron } from './fake_electron.js';

const holder = vi.hoisted(() => ({ current: undefined as FakeElectron | undefined }));
vi.mock('electron', () => electronModule(holder));
// Each started app's windows close at the end, and their lab hosts with them.
afterAll(closeAllWindows);
// The main process logs what it refuses (console.warn); kept here to be checked, not printed.
const warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
afterAll(() => warnings.mockRestore());

const APP_PAGE = { url: 'app://xenlab/index.html', parent: null };

/** The app as started from a packaged build, with its first window open. */
async function startedApp(options: { isPackaged?: boolean; env?: Record<string, string | undefined> } = {}): Promise<FakeElectron> {
  const fake = createFakeElectron({ isPackaged: options.isPackaged ?? true });
  await bootMain(holder, fake, { env: { ELECTRON_RENDERER_URL: undefined, ...options.env } });
  await fake.app.becomeReady();
  return fake;
}

type PermissionRequest = (wc: unknown, permission: string, callback: (granted: boolean) => void, details: object) => void;
type PermissionCheck = (wc: unknown, permission: string, origin: string, details: object) => boolean;
type BeforeRequest = (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void;

function requestPermission(fake: FakeElectron, permission: string, requestingUrl: string, isMainFrame = true): boolean {
  let granted: boolean | undefined;
  (fake.session.defaultSession.permissionRequestHandler as PermissionRequest)({}, permission, (g) => (granted = g), { requestingUrl, isMainFrame });
  if (granted === undefined) throw new Error('the permission request was never answered');
  return granted;
}

function allowedRequest(fake: FakeElectron, url: string): boolean {
  let cancel: boolean | undefined;
  (fake.session.defaultSession.beforeRequest as BeforeRequest)({ url }, (response) => (cancel = response.cancel));
  if (cancel === undefined) throw new Error('the request was never answered');
  return !cancel;
}

async function fetchApp(fake: FakeElectron, url: string, method = 'GET'): Promise<Response> {
  const handler = fake.protocol.handlers.get('app');
  if (handler === undefined) throw new Error('no app:// handler');
  return await handler({ url, method } as Request);
}

describe('the Electron security checklist, on the running main process', () => {
  let fake: FakeElectron;
  beforeAll(async () => {
    fake = await startedApp();
  });

  describe('renderer processes', () => {
    it('are sandboxed, enabled before the app is ready', () => {
      expect(fake.app.sandboxEnabledBeforeReady).toBe(true);
    });

    it('the lab window has context isolation, the sandbox, and no Node.js (nor in workers and subframes)', () => {
      const prefs = fake.windows[0]?.options.webPreferences;
      expect(prefs?.contextIsolation).toBe(true);
      expect(prefs?.sandbox).toBe(true);
      expect(prefs?.nodeIntegration).toBe(false);
      expect(prefs?.nodeIntegrationInWorker).toBe(false);
      expect(prefs?.nodeIntegrationInSubFrames).toBe(false);
    });

    it('keeps web security on, and insecure content, experimental features and <webview> off', () => {
      const prefs = fake.windows[0]?.options.webPreferences;
      expect(prefs?.webSecurity).toBe(true);
      expect(prefs?.allowRunningInsecureContent).toBe(false);
      expect(prefs?.experimentalFeatures).toBe(false);
      expect(prefs?.webviewTag).toBe(false);
      expect(prefs).not.toHaveProperty('enableRemoteModule');
      expect(prefs).not.toHaveProperty('enableBlinkFeatures');
      // The spellchecker downloads dictionaries: remote content.
      expect(prefs?.spellcheck).toBe(false);
      expect(prefs?.navigateOnDragDrop).toBe(false);
    });

    it('loads a CommonJS preload (a sandboxed preload cannot be an ES module)', () => {
      expect(fake.windows[0]?.options.webPreferences?.preload).toMatch(/[/\\]preload[/\\]index\.cjs$/);
    });

    it('is the same for every window (secureWebPreferences)', () => {
      expect(fake.windows[0]?.options.webPreferences).toEqual(secureWebPreferences(fake.windows[0]!.options.webPreferences!.preload!));
    });
  });

  describe('the page', () => {
    it('comes from app://xenlab, not file://', () => {
      expect(fake.windows[0]?.loaded).toEqual(['app://xenlab/index.html']);
    });

    it('app:// is registered before ready as a standard, secure scheme, without CSP bypass or service workers', () => {
      expect(fake.protocol.registeredBeforeReady).toBe(true);
      const [scheme] = fake.protocol.privileged;
      expect(scheme?.scheme).toBe('app');
      expect(scheme?.privileges).toMatchObject({ standard: true, secure: true });
      expect(scheme?.privileges?.bypassCSP).toBeFalsy();
      expect(scheme?.privileges?.allowServiceWorkers).toBeFalsy();
      expect(scheme?.privileges?.corsEnabled).toBeFalsy();
    });

    it('comes from the dev server only in development', async () => {
      const dev = await startedApp({ isPackaged: false, env: { ELECTRON_RENDERER_URL: 'http://localhost:5173/' } });
      expect(dev.windows[0]?.loaded).toEqual(['http://localhost:5173/']);
      const packaged = await startedApp({ isPackaged: true, env: { ELECTRON_RENDERER_URL: 'http://localhost:5173/' } });
      expect(packaged.windows[0]?.loaded).toEqual(['app://xenlab/index.html']);
    });
  });

  describe('navigation and new windows', () => {
    it('blocks navigation away from the page', () => {
      const contents = fake.windows[0]!.webContents;
      const event = fakeEvent();
      contents.emit('will-navigate', event, 'https://evil.example/');
      expect(event.defaultPrevented).toBe(true);
    });

    it("blocks any frame's navigation, but not moving within the page", () => {
      const contents = fake.windows[0]!.webContents;
      const away = fakeEvent({ url: 'https://evil.example/', isSameDocument: false, isMainFrame: false });
      contents.emit('will-frame-navigate', away);
      expect(away.defaultPrevented).toBe(true);
      const anchor = fakeEvent({ url: 'app://xenlab/index.html#consoles', isSameDocument: true, isMainFrame: true });
      contents.emit('will-frame-navigate', anchor);
      expect(anchor.defaultPrevented).toBe(false);
    });

    it('refuses <webview>', () => {
      const event = fakeEvent();
      fake.windows[0]!.webContents.emit('will-attach-webview', event, {}, {});
      expect(event.defaultPrevented).toBe(true);
    });

    it('denies window.open and target=_blank', () => {
      expect(fake.windows[0]!.webContents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
      expect(fake.windows[0]!.webContents.windowOpenHandler?.({ url: 'app://xenlab/index.html' })).toEqual({ action: 'deny' });
    });
  });

  describe('permissions', () => {
    const refused = [
      'media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'midi', 'midiSysex', 'hid', 'serial', 'usb',
      'fullscreen', 'pointerLock', 'display-capture', 'fileSystem', 'storage-access', 'window-management', 'unknown',
    ];

    it.each(refused)("denies '%s', even to the app's page", (permission) => {
      expect(requestPermission(fake, permission, 'app://xenlab/index.html')).toBe(false);
      const check = fake.session.defaultSession.permissionCheckHandler as PermissionCheck;
      expect(check({}, permission, 'app://xenlab', { requestingUrl: 'app://xenlab/index.html', isMainFrame: true })).toBe(false);
    });

    it("grants writing text to the clipboard to the app's own top frame only", () => {
      expect(requestPermission(fake, 'clipboard-sanitized-write', 'app://xenlab/index.html')).toBe(true);
      expect(requestPermission(fake, 'clipboard-sanitized-write', 'app://xenlab/index.html', false)).toBe(false);
      expect(requestPermission(fake, 'clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
      expect(requestPermission(fake, 'clipboard-sanitized-write', 'file:///tmp/x.html')).toBe(false);
    });

    it('refuses USB, HID and serial devices', () => {
      expect((fake.session.defaultSession.devicePermissionHandler as () => boolean)()).toBe(false);
    });
  });

  describe('no remote content', () => {
    it.each([
      'https://cdn.example/monaco.js',
      'http://example.com/',
      'ws://evil.example/socket',
      'file:///etc/passwd',
      'http://localhost:5173/src/main.ts', // the dev server, in a packaged app
      'app://other/index.html',
    ])('cancels a request to %s', (url) => {
      expect(allowedRequest(fake, url)).toBe(false);
    });

    it.each(['app://xenlab/assets/index.js', 'data:image/png;base64,AAAA', 'blob:app://xenlab/0b6c-41', 'devtools://devtools/bundled/inspector.html'])(
      'lets %s through',
      (url) => {
        expect(allowedRequest(fake, url)).toBe(true);
      },
    );

    it('refuses downloads', () => {
      const event = fakeEvent();
      fake.session.defaultSession.emit('will-download', event, { getURL: () => 'https://evil.example/x.exe' });
      expect(event.defaultPrevented).toBe(true);
    });
  });

  describe('Content-Security-Policy', () => {
    it('is strict: scripts only from the app, inline styles only (xterm and Monaco need them)', () => {
      expect(CONTENT_SECURITY_POLICY).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
          "worker-src 'self' blob:; img-src 'self' data:; font-src 'self' data:",
      );
      expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*/);
      expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe-inline/);
    });

    it('is on every app:// response, found or not', async () => {
      for (const url of ['app://xenlab/index.html', 'app://xenlab/missing.js', 'app://xenlab/../../etc/passwd']) {
        const response = await fetchApp(fake, url);
        expect(response.headers.get('Content-Security-Policy'), url).toBe(CONTENT_SECURITY_POLICY);
        expect(response.headers.get('X-Content-Type-Options'), url).toBe('nosniff');
      }
    });

    it("replaces the dev server's headers (any letter case) with it", () => {
      const listener = fake.session.defaultSession.headersReceived as typeof addCspHeader;
      const callback = vi.fn();
      listener({ responseHeaders: { 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] } }, callback);
      expect(callback).toHaveBeenCalledExactlyOnceWith({
        responseHeaders: { 'Content-Type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
      });
      const bare = vi.fn();
      listener({}, bare);
      expect(bare).toHaveBeenCalledExactlyOnceWith({ responseHeaders: { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });

    it('matches the <meta> in src/renderer/index.html', () => {
      const html = readFileSync(new URL('../../src/renderer/index.html', import.meta.url), 'utf8');
      const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
      expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
    });
  });

  describe('IPC senders', () => {
    const ask = (frame: { url: string; parent: unknown } | null) =>
      fake.ipcMain.invoke(IPC_REQUEST, ipcEvent(fake.windows[0]!.webContents, frame), { name: 'app.info', params: {} });

    it("passes the app's own page to the lab host", async () => {
      expect(await ask(APP_PAGE)).not.toMatchObject({ ok: false, error: { code: 'denied' } });
    });

    it.each([
      ['file://', { url: 'file:///opt/XenLab/resources/app.asar/out/renderer/index.html', parent: null }],
      ['http://evil', { url: 'http://evil.example/', parent: null }],
      ['the dev server in a packaged app', { url: 'http://localhost:5173/', parent: null }],
      ['a subframe', { url: 'app://xenlab/index.html', parent: APP_PAGE }],
      ['a frame that is gone', null],
    ])('refuses and logs %s', async (_what, frame) => {
      warnings.mockClear();
      expect(await ask(frame)).toMatchObject({ ok: false, error: { code: 'denied' } });
      expect(warnings).toHaveBeenCalledWith(expect.stringContaining('XenLab: refused IPC'));
    });

    it('isTrustedIpcSender logs what it refuses', () => {
      const log = vi.fn();
      expect(isTrustedIpcSender({ url: 'http://evil.example/', parent: null }, ['app://xenlab'], log)).toBe(false);
      expect(log).toHaveBeenCalledWith(expect.stringContaining('http://evil.example/'));
    });

    it('compares whole origins', () => {
      expect(originOf('app://xenlab/index.html')).toBe('app://xenlab');
      expect(originOf('app://xenlab.evil/x')).toBe('app://xenlab.evil');
      expect(originOf('app://user@xenlab/x')).toBeNull();
      expect(originOf('file:///x')).toBeNull();
      expect(originOf('about:blank')).toBeNull();
      expect(originOf('not a url')).toBeNull();
    });
  });

  describe('the app:// handler', () => {
    it.each([
      'app://xenlab/../../etc/passwd',
      'app://xenlab/%2e%2e/%2e%2e/etc/passwd',
      'app://xenlab/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      'app://xenlab/..%2f..%2f..%2fetc%2fpasswd',
      'app://xenlab/..%5c..%5cetc%5cpasswd',
      'app://xenlab/%252e%252e/%252e%252e/etc/passwd',
      'app://xenlab/index.html%00.png',
      'app://xenlab/../main/index.ts',
      'app://xenlab/%2e%2e/main/index.ts',
      'app://other/index.html',
      'app://xenlab/%E0%A4%A',
    ])('refuses %s', async (url) => {
      const response = await fetchApp(fake, url);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe('not found');
    });

    it('serves the renderer folder with MIME types', async () => {
      const response = await fetchApp(fake, 'app://xenlab/index.html');
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
      expect(await response.text()).toContain('<title>XenLab</title>');
    });

    it('refuses methods other than GET and HEAD', async () => {
      expect((await fetchApp(fake, 'app://xenlab/index.html', 'POST')).status).toBe(405);
    });
  });

  describe('packaging', () => {
    const config = parse(readFileSync(new URL('../../electron-builder.yml', import.meta.url), 'utf8')) as {
      asar: boolean;
      electronFuses: Record<string, boolean>;
    };

    it('sets the Electron fuses', () => {
      expect(config.electronFuses).toEqual({
        runAsNode: false,
        enableCookieEncryption: true,
        enableNodeOptionsEnvironmentVariable: false,
        enableNodeCliInspectArguments: false,
        enableEmbeddedAsarIntegrityValidation: true,
        onlyLoadAppFromAsar: true,
        loadBrowserProcessSpecificV8Snapshot: false,
        grantFileProtocolExtraPrivileges: false,
      });
    });

    it('packs the app into an asar archive (what onlyLoadAppFromAsar and integrity validation need)', () => {
      expect(config.asar).toBe(true);
    });
  });
});
