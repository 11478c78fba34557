/**
 * Web mode: the lab's UI and its contract in a browser. One HTTP server on
 * 127.0.0.1 serves the built renderer (the page itself only with the token
 * in its URL) and a WebSocket at /ws carrying the contract's messages as
 * JSON (WireRequest / WireResponse / WireEvent). Each page has its own lab
 * host; when its connection drops, the host is kept for a while so the page
 * can come back to its session (it names itself with a client id).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { HostError, type EventName, type WireEvent, type WireRequest, type WireResponse } from '../contract/api.js';
import type { LabHost } from '../host/lab_host.js';
import { hostIsOurs, isLoopback, originIsOurs, SECURITY_HEADERS, tokenMatches } from './security.js';
import { StaticFiles } from './static_files.js';

export interface WebServerOptions {
  /** 0 (default): a free port chosen by the system. */
  port?: number;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** A lab host for a new page. */
  createHost: () => LabHost;
  /** Default: 24 random bytes, base64url. */
  token?: string;
  /** How long a page's host waits for the page to reconnect, ms (default 60 s). */
  reattachMs?: number;
}

export interface WebServer {
  /** The page's address, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Cuts every WebSocket as a network failure would (the pages reconnect); used by tests. */
  dropConnections(): void;
  /** Cuts every WebSocket and refuses new ones for `ms` (a network outage, for tests). */
  suspend(ms: number): void;
  close(): Promise<void>;
}

/** The events a page receives. */
const EVENTS: EventName[] = ['session.status', 'session.trace', 'session.console', 'session.topology', 'session.failure', 'session.ended', 'menu.command'];

/** A client whose queue holds more than this is too slow: its connection is closed (it reconnects and catches up). */
const MAX_BUFFERED = 256 * 2 ** 20;
const MAX_MESSAGE = 300 * 2 ** 20;
const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;

interface Client {
  host: LabHost;
  socket: WebSocket | undefined;
  off: (() => void)[];
  expiry: ReturnType<typeof setTimeout> | undefined;
}

function refuse(socket: Duplex, status: number, why: string): void {
  socket.write(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(why)}\r\n\r\n${why}`);
  socket.destroy();
}

const NO_TOKEN_PAGE = `<!doctype html><meta charset="utf-8"><title>XenLab</title><p>Open XenLab with the address <code>npm run web</code> printed: it carries a token that lets this page in.</p>`;

export function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const files = new StaticFiles(opts.rendererDir);
  const clients = new Map<string, Client>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: false });
  let port = 0;
  let suspendedUntil = 0;

  const send = (res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!isLoopback(req.socket.remoteAddress)) return send(res, 403, 'only this computer may use this server', 'text/plain; charset=utf-8');
    if (!hostIsOurs(req.headers.host, port)) return send(res, 403, 'wrong Host header: open the address npm run web printed', 'text/plain; charset=utf-8');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET and HEAD', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const page = url.pathname === '/' || url.pathname === '/index.html';
    if (page && !tokenMatches(url.searchParams.get('token'), token)) return send(res, 403, NO_TOKEN_PAGE, 'text/html; charset=utf-8');
    const f = files.get(url.pathname);
    if (f === undefined) return send(res, 404, 'not found', 'text/plain; charset=utf-8');
    send(res, 200, f.body, f.type, { 'Cache-Control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-store' });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isLoopback(req.socket.remoteAddress)) return refuse(socket, 403, 'only this computer may connect');
    if (!hostIsOurs(req.headers.host, port)) return refuse(socket, 403, 'wrong Host header');
    if (!originIsOurs(req.headers.origin, port)) return refuse(socket, 403, 'wrong Origin: only the lab page may connect');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/ws') return refuse(socket, 404, 'not found');
    if (Date.now() < suspendedUntil) return refuse(socket, 503, 'suspended');
    if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(socket, 403, 'wrong or missing token');
    const id = url.searchParams.get('client') ?? '';
    if (!CLIENT_ID.test(id)) return refuse(socket, 400, 'missing or malformed client id');
    wss.handleUpgrade(req, socket, head, (ws) => attach(id, ws));
  });

  function attach(id: string, ws: WebSocket): void {
    let c = clients.get(id);
    if (c === undefined) {
      c = { host: opts.createHost(), socket: undefined, off: [], expiry: undefined };
      clients.set(id, c);
    }
    const client = c;
    if (client.expiry !== undefined) clearTimeout(client.expiry);
    client.expiry = undefined;
    for (const off of client.off) off();
    client.off = [];
    client.socket?.terminate();
    client.socket = ws;
    const post = (m: WireEvent | WireResponse): void => {
      if (client.socket !== ws || ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED) {
        ws.terminate(); // too slow to keep up: it reconnects and catches up with session.sync
        return;
      }
      ws.send(JSON.stringify(m));
    };
    for (const name of EVENTS) client.off.push(client.host.on(name, (payload) => post({ event: name, payload })));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return post({ id: -1, ok: false, error: { code: 'bad-request', message: 'messages are JSON text' } });
      let msg: WireRequest;
      try {
        msg = JSON.parse(data.toString()) as WireRequest;
      } catch {
        return post({ id: -1, ok: false, error: { code: 'bad-request', message: 'a message is not JSON' } });
      }
      const rid = typeof msg === 'object' && msg !== null && Number.isSafeInteger(msg.id) ? msg.id : -1;
      if (rid < 0 || typeof msg.name !== 'string') {
        return post({ id: rid, ok: false, error: { code: 'bad-request', message: 'a request is { id, name, params }' } });
      }
      client.host.request(msg.name as 'app.info', msg.params as never).then(
        (result) => post({ id: rid, ok: true, result }),
        (e: unknown) => post({ id: rid, ok: false, error: e instanceof HostError ? e.toData() : { code: 'internal', message: e instanceof Error ? e.message : String(e) } }),
      );
    });
    ws.on('close', () => {
      if (client.socket !== ws) return;
      client.socket = undefined;
      for (const off of client.off) off();
      client.off = [];
      client.expiry = setTimeout(() => {
        clients.delete(id);
        void client.host.close();
      }, opts.reattachMs ?? 60_000);
      client.expiry.unref();
    });
    ws.on('error', () => ws.terminate());
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const addr = server.address();
      port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}/?token=${token}`,
        port,
        token,
        dropConnections() {
          for (const c of clients.values()) c.socket?.terminate();
        },
        suspend(ms) {
          suspendedUntil = Date.now() + ms;
          for (const c of clients.values()) c.socket?.terminate();
        },
        async close() {
          for (const c of clients.values()) {
            if (c.expiry !== undefined) clearTimeout(c.expiry);
            c.socket?.terminate();
          }
          await Promise.all([...clients.values()].map((c) => c.host.close()));
          clients.clear();
          wss.close();
          server.closeAllConnections();
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}
