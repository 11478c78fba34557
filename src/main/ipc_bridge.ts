/**
 * The contract over Electron IPC, main side: a request from the page becomes a call of the
 * window's host, its outcome an IpcResponse; the host's events go to that window alone.
 * No Electron import: the shell (./shell.ts) hands in the sender's check and the send function.
 */
import { HostError, type HostApi, type RequestName, type WireEvent } from '../contract/api.js';
import { EVENT_NAMES, isHostErrorCode, type IpcResponse } from '../contract/bridge.js';

function badRequest(message: string): IpcResponse {
  return { ok: false, error: { code: 'bad-request', message } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** An error from the host as the page sees it: a HostError's code and message, anything else 'internal'. */
export function errorResponse(error: unknown): IpcResponse {
  if (error instanceof HostError) return { ok: false, error: error.toData() };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (isHostErrorCode(code)) return { ok: false, error: { code, message } };
  return { ok: false, error: { code: 'internal', message: `the lab host failed: ${message}` } };
}

/**
 * Answers one IPC_REQUEST message. The shape is checked here (a name, an object of parameters);
 * whether the name is a request and the parameters fit it is the host's to check.
 */
export async function answerRequest(host: HostApi, message: unknown): Promise<IpcResponse> {
  if (!isPlainObject(message)) return badRequest('a request is an object { name, params }');
  const { name, params } = message;
  if (typeof name !== 'string' || name === '') return badRequest(`a request's name is a non-empty string, found ${typeof name}`);
  if (params !== undefined && !isPlainObject(params)) return badRequest(`the parameters of '${name}' must be an object`);
  try {
    const result = await host.request(name as RequestName, (params ?? {}) as never);
    return { ok: true, result };
  } catch (error) {
    return errorResponse(error);
  }
}

/** Subscribes to every host event and passes each on as a WireEvent; returns the unsubscribe. */
export function forwardEvents(host: HostApi, send: (message: WireEvent) => void): () => void {
  const offs = EVENT_NAMES.map((event) => host.on(event, (payload) => send({ event, payload })));
  return () => {
    for (const off of offs) off();
  };
}
