/**
 * The preload's logic, without Electron: IPC in the isolated world (./index.ts passes
 * ipcRenderer), and the function that installs `window.xenlab` in the page's world.
 * Tested in Node by test/preload/bridge.test.ts with a fake ipcRenderer.
 */
import type { IpcRenderer } from 'electron';
import { IPC_EVENT, IPC_REQUEST, type EventName } from '../contract/api.js';
import { isEventName, isHostErrorCode, type IpcRequest, type IpcResponse } from '../contract/bridge.js';

/** Events the main process sends once, maybe before the page listens: held until it does. */
const HELD_EVENTS: ReadonlySet<EventName> = new Set<EventName>(['app.openPath']);
/** At most this many held events are kept (a page that never listens must not grow memory). */
export const MAX_HELD_EVENTS = 64;

/** What crosses the context bridge into the page's world: plain functions over IPC. */
export interface IsolatedBridge {
  readonly version: string;
  /** Resolves with the main process's IpcResponse; never rejects. */
  invoke(name: string, params: unknown): Promise<IpcResponse>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

type IpcLike = Pick<IpcRenderer, 'invoke' | 'on'>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function failure(code: 'bad-request' | 'internal', message: string): IpcResponse {
  return { ok: false, error: { code, message } };
}

/** Checks what the main process answered (a reply that is not an IpcResponse is an internal error). */
function checkedResponse(name: string, reply: unknown): IpcResponse {
  if (isPlainObject(reply)) {
    if (reply['ok'] === true && 'result' in reply) return { ok: true, result: reply['result'] };
    const error = reply['error'];
    if (reply['ok'] === false && isPlainObject(error) && isHostErrorCode(error['code']) && typeof error['message'] === 'string') {
      return { ok: false, error: { code: error['code'], message: error['message'] } };
    }
  }
  return failure('internal', `the main process sent a malformed answer to '${name}'`);
}

export function createIsolatedBridge(ipc: IpcLike, version: string): IsolatedBridge {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const held: { event: EventName; payload: unknown }[] = [];

  const deliver = (event: EventName, payload: unknown): void => {
    for (const listener of [...(listeners.get(event) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`XenLab: a listener of '${event}' failed:`, error);
      }
    }
  };

  ipc.on(IPC_EVENT, (_event, message: unknown) => {
    if (!isPlainObject(message) || !isEventName(message['event'])) return;
    const event = message['event'];
    if ((listeners.get(event)?.size ?? 0) > 0) deliver(event, message['payload']);
    else if (HELD_EVENTS.has(event) && held.length < MAX_HELD_EVENTS) held.push({ event, payload: message['payload'] });
  });

  return {
    version,
    async invoke(name, params) {
      if (typeof name !== 'string' || name === '') return failure('bad-request', `request(name, params): name must be a non-empty string, found ${typeof name}`);
      if (params !== undefined && !isPlainObject(params)) return failure('bad-request', `request('${name}', params): params must be an object`);
      const request: IpcRequest = { name, params: params ?? {} };
      try {
        return checkedResponse(name, await ipc.invoke(IPC_REQUEST, request));
      } catch (error) {
        return failure('internal', `the request '${name}' did not reach the lab: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    on(event, listener) {
      if (!isEventName(event)) throw new TypeError(`on(event, listener): unknown event '${String(event)}'`);
      if (typeof listener !== 'function') throw new TypeError(`on('${event}', listener): listener must be a function`);
      let set = listeners.get(event);
      if (set === undefined) listeners.set(event, (set = new Set()));
      set.add(listener);
      // Held events go to the first listener, after on() has returned its unsubscribe.
      const waiting = held.filter((h) => h.event === event);
      if (waiting.length > 0) {
        held.splice(0, held.length, ...held.filter((h) => h.event !== event));
        queueMicrotask(() => {
          for (const h of waiting) deliver(h.event, h.payload);
        });
      }
      return () => {
        set.delete(listener);
      };
    },
  };
}

/**
 * Runs in the page's world (contextBridge.executeInMainWorld serialises it: it must refer to
 * nothing outside itself). Defines `window.xenlab` as the contract's HostApi: `request`
 * resolves with the result or rejects with an Error whose `code` is the HostErrorCode — made
 * here, in the page's world, because an Error crossing the context bridge keeps only its message.
 */
export function installXenlab(bridge: IsolatedBridge, target: object = globalThis): void {
  const request = async (name: string, params: unknown): Promise<unknown> => {
    const response = await bridge.invoke(name, params);
    if (response.ok) return response.result;
    const error = new Error(response.error.message) as Error & { code: string };
    error.name = 'HostError';
    error.code = response.error.code;
    throw error;
  };
  const on = (event: string, listener: (payload: unknown) => void): (() => void) => bridge.on(event, listener);
  const api = Object.freeze({ version: bridge.version, request, on });
  Object.defineProperty(target, 'xenlab', { value: api, enumerable: true, configurable: false, writable: false });
}
