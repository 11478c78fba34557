/**
 * The main process's security settings, as plain data and plain functions.
 *
 * This module must stay importable without Electron: it has only `import type`
 * from 'electron' (erased at compile time), so test/main/security.test.ts can
 * check every item below in Node with fake WebContents/Session objects.
 * Do not add a runtime import here; wire things up in ./index.ts instead.
 *
 * Checklist (https://www.electronjs.org/docs/latest/tutorial/security):
 *  - contextIsolation on, sandbox on, nodeIntegration off (also in workers and subframes)
 *  - webSecurity on, no insecure content, no experimental features, no <webview>
 *  - navigation blocked, window.open denied, <webview> attachment refused
 *  - every permission request and check denied
 *  - a strict Content-Security-Policy header on every response (and the same
 *    policy as a <meta> in src/renderer/index.html, for file:// loads)
 */
import type {
  BrowserWindowConstructorOptions,
  HandlerDetails,
  OnHeadersReceivedListenerDetails,
  HeadersReceivedResponse,
  Session,
  WebContents,
  WebPreferences,
  WindowOpenHandlerResponse,
} from 'electron';

/** The renderer's Content-Security-Policy. Keep src/renderer/index.html's meta tag identical (a test checks). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // xterm and Monaco set inline styles; without this xterm renders blank.
  "style-src 'self' 'unsafe-inline'",
  // Monaco's workers.
  "worker-src 'self' blob:",
  "img-src 'self' data:",
  "font-src 'self' data:",
].join('; ');

/** webPreferences for every XenLab window. `preload` is the absolute path of out/preload/index.cjs. */
export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
  };
}

/** Options for the main lab window. */
export function mainWindowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    title: 'XenLab',
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 500,
    show: false,
    backgroundColor: '#1e1e1e',
    webPreferences: secureWebPreferences(preload),
  };
}

/** 'will-navigate' / 'will-attach-webview' listener: the renderer never leaves its page. */
export function preventDefault(event: { preventDefault(): void }): void {
  event.preventDefault();
}

/** setWindowOpenHandler handler: window.open and target=_blank links open nothing. */
export function denyWindowOpen(_details?: HandlerDetails): WindowOpenHandlerResponse {
  return { action: 'deny' };
}

/** setPermissionRequestHandler handler: camera, microphone, notifications, ... all refused. */
export function denyPermissionRequest(
  _webContents: unknown,
  _permission: string,
  callback: (permissionGranted: boolean) => void,
): void {
  callback(false);
}

/** setPermissionCheckHandler handler: every synchronous permission check answers "no". */
export function denyPermissionCheck(): boolean {
  return false;
}

/**
 * webRequest.onHeadersReceived listener: replaces any Content-Security-Policy the
 * response had (in any letter case) with ours, and keeps the other headers.
 */
export function addCspHeader(
  details: Pick<OnHeadersReceivedListenerDetails, 'responseHeaders'>,
  callback: (response: HeadersReceivedResponse) => void,
): void {
  const responseHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') responseHeaders[name] = value;
  }
  responseHeaders['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  callback({ responseHeaders });
}

/** Applies the navigation, window.open and <webview> rules to one WebContents. */
export function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', preventDefault);
  contents.on('will-attach-webview', preventDefault);
  contents.setWindowOpenHandler(denyWindowOpen);
}

/** Applies the permission and CSP rules to a session (the default session, for now). */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler(denyPermissionRequest);
  session.setPermissionCheckHandler(denyPermissionCheck);
  session.webRequest.onHeadersReceived(addCspHeader);
}
