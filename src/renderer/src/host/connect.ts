/**
 * The host the page talks to, whichever the transport: the desktop app's
 * preload bridge (window.xenlab, over IPC) or the web mode's WebSocket
 * (the token comes from the page's address).
 */
import { HostError, type HostApi } from '../../../contract/api.js';
import { WsHost } from './ws_host.js';

export type Connection = { kind: 'electron'; host: HostApi } | { kind: 'web'; host: WsHost };

function clientId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Errors that crossed IPC lose their class: make them HostErrors again. */
export function asHostError(e: unknown): HostError {
  if (e instanceof HostError) return e;
  const x = e as { code?: unknown; message?: unknown };
  if (typeof x === 'object' && x !== null && typeof x.code === 'string' && typeof x.message === 'string') return new HostError(x.code as HostError['code'], x.message);
  return new HostError('internal', e instanceof Error ? e.message : String(e));
}

export function connect(): Connection {
  if (window.xenlab !== undefined) return { kind: 'electron', host: window.xenlab };
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws?token=${encodeURIComponent(token)}&client=${clientId()}`;
  return { kind: 'web', host: new WsHost(url) };
}
