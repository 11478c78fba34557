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
 *  - every permission request and check denied, but one: writing text to the clipboard
 *    from the app's own page (the consoles' and the editor's Copy)
 *  - no remote content: requests to anything but the app's origin cancelled
 *  - a strict Content-Security-Policy header on every response (app:// responses carry it
 *    from ./app_protocol.ts, the dev server's get it here; the same policy is a <meta> in
 *    src/renderer/index.html)
 *  - IPC senders validated: the app's own origin, top frame only
 */
import type {
  BrowserWindowConstructorOptions,
  HandlerDetails,
  HeadersReceivedResponse,
  OnBeforeRequestListenerDetails,
  OnHeadersReceivedListenerDetails,
  Session,
  WebContents,
  WebPreferences,
  WindowOpenHandlerResponse,
} from 'electron';

/** The renderer's Content-Security-Policy (src/contract/csp.ts; src/renderer/index.html's meta tag is the same, a test checks). */
export { CONTENT_SECURITY_POLICY } from '../contract/csp.js';
import { CONTENT_SECURITY_POLICY } from '../contract/csp.js';

/** Logs a refusal (a hostile or buggy page); index.ts passes console.warn. */
export type SecurityLog = (message: string) => void;

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
    spellcheck: false,
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

// ---- origins ----

/**
 * scheme://host[:port] of a URL, or null for URLs without a host (file:, data:, about:blank,
 * garbage). Node's URL gives 'null' as the origin of non-web schemes such as app:, hence by hand.
 * ws:/wss: count as http:/https: (the dev server's hot-reload socket shares its origin).
 */
export function originOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.host === '' || parsed.username !== '' || parsed.password !== '') return null;
  const protocol = parsed.protocol === 'ws:' ? 'http:' : parsed.protocol === 'wss:' ? 'https:' : parsed.protocol;
  return `${protocol}//${parsed.host}`;
}

/**
 * The origins the app's page may come from: app://xenlab, and in development (not packaged,
 * ELECTRON_RENDERER_URL set by `electron-vite dev`) the dev server's.
 */
export function trustedOrigins(appOrigin: string, devServerUrl: string | undefined): string[] {
  const origins = [appOrigin];
  const dev = devServerUrl === undefined ? null : originOf(devServerUrl);
  if (dev !== null) origins.push(dev);
  return origins;
}

export function isTrustedUrl(url: string, origins: readonly string[]): boolean {
  const origin = originOf(url);
  return origin !== null && origins.includes(origin);
}

/** The part of an IPC event's senderFrame (Electron's WebFrameMain) the check reads. */
export interface SenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/**
 * Every IPC message is checked before it reaches the host: it must come from the top frame of a
 * page of the app's own origin. A destroyed frame (null), a subframe, file://, or any other
 * origin is refused and logged.
 */
export function isTrustedIpcSender(frame: SenderFrame | null | undefined, origins: readonly string[], log: SecurityLog = () => {}): boolean {
  if (frame === null || frame === undefined) {
    log('XenLab: refused IPC from a frame that is gone');
    return false;
  }
  if (frame.parent !== null) {
    log(`XenLab: refused IPC from a subframe (${frame.url})`);
    return false;
  }
  if (!isTrustedUrl(frame.url, origins)) {
    log(`XenLab: refused IPC from ${frame.url || '(no URL)'}: not the app's page`);
    return false;
  }
  return true;
}

// ---- navigation, new windows, webviews ----

/** 'will-navigate' / 'will-attach-webview' listener: the renderer never leaves its page. */
export function preventDefault(event: { preventDefault(): void }): void {
  event.preventDefault();
}

/** setWindowOpenHandler handler: window.open and target=_blank links open nothing. */
export function denyWindowOpen(_details?: HandlerDetails): WindowOpenHandlerResponse {
  return { action: 'deny' };
}

/** Applies the navigation, window.open and <webview> rules to one WebContents. */
export function hardenWebContents(contents: WebContents, log: SecurityLog = () => {}): void {
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    log(`XenLab: blocked navigation to ${url}`);
  });
  // Any frame's navigation (subframes too); moving within the same document (#fragment) is fine.
  contents.on('will-frame-navigate', (event) => {
    if (event.isSameDocument) return;
    event.preventDefault();
    log(`XenLab: blocked a frame's navigation to ${event.url}`);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log('XenLab: refused a <webview>');
  });
  contents.setWindowOpenHandler((details) => {
    log(`XenLab: refused to open a window for ${details.url}`);
    return denyWindowOpen(details);
  });
}

// ---- permissions ----

/** The one permission granted, and only to the app's own top frame: writing text to the clipboard. */
export const ALLOWED_PERMISSIONS: readonly string[] = ['clipboard-sanitized-write'];

export function isPermissionAllowed(permission: string, requestingUrl: string | undefined, isMainFrame: boolean, origins: readonly string[]): boolean {
  return ALLOWED_PERMISSIONS.includes(permission) && isMainFrame && requestingUrl !== undefined && isTrustedUrl(requestingUrl, origins);
}

type PermissionRequestHandler = Parameters<Session['setPermissionRequestHandler']>[0] & {};
type PermissionCheckHandler = Parameters<Session['setPermissionCheckHandler']>[0] & {};

/** setPermissionRequestHandler handler: camera, microphone, notifications, ... all refused. */
export function permissionRequestHandler(origins: readonly string[], log: SecurityLog = () => {}): PermissionRequestHandler {
  return (_webContents, permission, callback, details) => {
    const allowed = isPermissionAllowed(permission, details.requestingUrl, details.isMainFrame, origins);
    if (!allowed) log(`XenLab: denied the '${permission}' permission to ${details.requestingUrl}`);
    callback(allowed);
  };
}

/** setPermissionCheckHandler handler: every synchronous permission check answers "no", but the one above. */
export function permissionCheckHandler(origins: readonly string[]): PermissionCheckHandler {
  return (_webContents, permission, requestingOrigin, details) =>
    isPermissionAllowed(permission, details.requestingUrl ?? requestingOrigin, details.isMainFrame, origins);
}

/** setDevicePermissionHandler handler: no USB, HID or serial device. */
export function denyDevicePermission(): boolean {
  return false;
}

// ---- requests and responses ----

/** Schemes that load nothing remote: inline data, the page's own blobs, the developer tools. */
const LOCAL_SCHEMES = ['data:', 'blob:', 'devtools:'];

/** Whether the session lets a request through: only the app's own origins and local schemes. */
export function isRequestAllowed(url: string, origins: readonly string[]): boolean {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return false;
  }
  return LOCAL_SCHEMES.includes(protocol) || isTrustedUrl(url, origins);
}

/** webRequest.onBeforeRequest listener: no remote content; refusals are logged. */
export function requestFilter(origins: readonly string[], log: SecurityLog = () => {}) {
  return (details: Pick<OnBeforeRequestListenerDetails, 'url'>, callback: (response: { cancel: boolean }) => void): void => {
    const allowed = isRequestAllowed(details.url, origins);
    if (!allowed) log(`XenLab: blocked a request to ${details.url}`);
    callback({ cancel: !allowed });
  };
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

/** Applies the permission, request and CSP rules, and refuses downloads, on a session. */
export function hardenSession(session: Session, origins: readonly string[], log: SecurityLog = () => {}): void {
  session.setPermissionRequestHandler(permissionRequestHandler(origins, log));
  session.setPermissionCheckHandler(permissionCheckHandler(origins));
  session.setDevicePermissionHandler(denyDevicePermission);
  session.webRequest.onBeforeRequest(requestFilter(origins, log));
  session.webRequest.onHeadersReceived(addCspHeader);
  session.on('will-download', (event, item) => {
    event.preventDefault();
    log(`XenLab: refused a download of ${item.getURL()}`);
  });
}
