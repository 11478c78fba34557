/**
 * The desktop shell's part of the contract: what the page sees as `window.xenlab`, and how the
 * preload and the main process carry `HostApi` over Electron IPC (channels IPC_REQUEST and
 * IPC_EVENT in ./api.ts). The web mode carries the same requests and events over its WebSocket.
 */
import type { EventName, HostApi, HostErrorCode, HostErrorData } from './api.js';

/**
 * `window.xenlab` in the desktop app (absent in a browser): the host API, and the app's version.
 * `request` rejects with an `Error` whose `code` is a HostErrorCode and `name` is 'HostError'.
 */
export interface XenLabBridge extends HostApi {
  readonly version: string;
}

/** What the preload sends with `ipcRenderer.invoke(IPC_REQUEST, request)`. */
export interface IpcRequest {
  name: string;
  params: unknown;
}

/** The main process's answer: a WireResponse without its id (invoke pairs answers with requests itself). */
export type IpcResponse = { ok: true; result: unknown } | { ok: false; error: HostErrorData };

/** Every event name, for transports that subscribe or check names at run time. */
export const EVENT_NAMES: readonly EventName[] = Object.freeze(
  Object.keys({
    'session.status': true,
    'session.trace': true,
    'session.console': true,
    'session.topology': true,
    'session.failure': true,
    'menu.command': true,
    'session.ended': true,
    'app.openPath': true,
  } satisfies Record<EventName, true>) as EventName[],
);

/** Every HostErrorCode, to check a code that arrived over a transport. */
export const HOST_ERROR_CODES: readonly HostErrorCode[] = Object.freeze(
  Object.keys({
    'bad-request': true,
    'not-found': true,
    denied: true,
    conflict: true,
    io: true,
    'no-session': true,
    input: true,
    internal: true,
  } satisfies Record<HostErrorCode, true>) as HostErrorCode[],
);

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);
}

export function isHostErrorCode(code: unknown): code is HostErrorCode {
  return typeof code === 'string' && (HOST_ERROR_CODES as readonly string[]).includes(code);
}
