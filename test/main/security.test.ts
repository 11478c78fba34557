/**
 * The Electron security checklist, checked without Electron.
 *
 * Electron cannot run on these machines, and importing the 'electron' package
 * in Node tries to download its binary. src/main/security.ts therefore imports
 * from 'electron' with `import type` only, and this test hands it fake
 * WebContents/Session objects. The vi.mock below fails loudly if anything
 * imports 'electron' at run time anyway; nothing else is mocked.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { Session, WebContents } from 'electron';
import {
  addCspHeader,
  CONTENT_SECURITY_POLICY,
  denyPermissionCheck,
  denyPermissionRequest,
  denyWindowOpen,
  hardenSession,
  hardenWebContents,
  mainWindowOptions,
  preventDefault,
  secureWebPreferences,
} from '../../src/main/security.js';

vi.mock('electron', () => {
  throw new Error('src/main/security.ts must not import electron at run time (use `import type`)');
});

type Listener = (...args: unknown[]) => unknown;

function fakeEvent(): { preventDefault(): void; defaultPrevented: boolean } {
  return {
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

describe('webPreferences', () => {
  const prefs = secureWebPreferences('/app/out/preload/index.cjs');

  it('isolates the context and sandboxes the renderer', () => {
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
  });

  it('gives the page no Node.js, in workers and subframes too', () => {
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and the risky switches off', () => {
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs).not.toHaveProperty('enableRemoteModule');
  });

  it('loads the CommonJS preload it was given', () => {
    expect(prefs.preload).toBe('/app/out/preload/index.cjs');
  });

  it('is what the main window uses', () => {
    const options = mainWindowOptions('/p.cjs');
    expect(options.webPreferences).toEqual(secureWebPreferences('/p.cjs'));
    expect(options.show).toBe(false);
  });
});

describe('navigation and new windows', () => {
  it('prevents navigation', () => {
    const event = fakeEvent();
    preventDefault(event);
    expect(event.defaultPrevented).toBe(true);
  });

  it('denies window.open', () => {
    expect(denyWindowOpen()).toEqual({ action: 'deny' });
  });

  it('wires will-navigate, will-attach-webview and the window-open handler on every WebContents', () => {
    const listeners = new Map<string, Listener>();
    let windowOpenHandler: Listener | undefined;
    const contents = {
      on(name: string, listener: Listener) {
        listeners.set(name, listener);
        return contents;
      },
      setWindowOpenHandler(handler: Listener) {
        windowOpenHandler = handler;
      },
    };
    hardenWebContents(contents as unknown as WebContents);

    for (const name of ['will-navigate', 'will-attach-webview']) {
      const event = fakeEvent();
      listeners.get(name)?.(event, 'https://example.invalid/');
      expect(event.defaultPrevented, name).toBe(true);
    }
    expect(windowOpenHandler?.({ url: 'https://example.invalid/' })).toEqual({ action: 'deny' });
  });
});

describe('permissions', () => {
  it('denies every permission request', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const callback = vi.fn();
      denyPermissionRequest(null, permission, callback);
      expect(callback).toHaveBeenCalledExactlyOnceWith(false);
    }
  });

  it('answers every permission check with no', () => {
    expect(denyPermissionCheck()).toBe(false);
  });
});

describe('Content-Security-Policy', () => {
  it('is the strict policy', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
        "worker-src 'self' blob:; img-src 'self' data:; font-src 'self' data:",
    );
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('is set on responses, replacing any policy the response had', () => {
    const callback = vi.fn();
    addCspHeader(
      { responseHeaders: { 'content-security-policy': ["default-src *"], 'Content-Type': ['text/html'] } },
      callback,
    );
    expect(callback).toHaveBeenCalledExactlyOnceWith({
      responseHeaders: { 'Content-Type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });

  it('is set on responses that had no headers', () => {
    const callback = vi.fn();
    addCspHeader({}, callback);
    expect(callback).toHaveBeenCalledExactlyOnceWith({
      responseHeaders: { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });

  it('matches the <meta> in src/renderer/index.html (used for file:// loads)', () => {
    const html = readFileSync(new URL('../../src/renderer/index.html', import.meta.url), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
  });
});

describe('session', () => {
  it('installs the permission handlers and the CSP header listener', () => {
    const session = {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      webRequest: { onHeadersReceived: vi.fn() },
    };
    hardenSession(session as unknown as Session);
    expect(session.setPermissionRequestHandler).toHaveBeenCalledExactlyOnceWith(denyPermissionRequest);
    expect(session.setPermissionCheckHandler).toHaveBeenCalledExactlyOnceWith(denyPermissionCheck);
    expect(session.webRequest.onHeadersReceived).toHaveBeenCalledExactlyOnceWith(addCspHeader);
  });
});
