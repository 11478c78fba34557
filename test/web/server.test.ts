// The web mode's server, for real on 127.0.0.1 with a real WebSocket client: the page only with
// its token, the Host and Origin checks (DNS rebinding), the CSP on every response, static files
// without traversal, the contract over the socket, and a page coming back to its session after
// its connection dropped.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WireEvent, WireResponse } from '../../src/contract/api.js';
import { fromBase64 } from '../../src/contract/trace_batch.js';
import { createLabHost } from '../../src/host/lab_host.js';
import { CONTENT_SECURITY_POLICY as MAIN_CSP } from '../../src/main/security.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/security.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';

const PLAN9 = readFileSync(join(import.meta.dirname, '../../scenarios/plan9-boot.yaml'), 'utf8');

let dir: string;
let server: WebServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenlab-web-'));
  const ui = join(dir, 'ui');
  mkdirSync(join(ui, 'assets'), { recursive: true });
  writeFileSync(join(ui, 'index.html'), '<!doctype html><title>XenLab</title>');
  writeFileSync(join(ui, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  mkdirSync(join(dir, 'work'));
  server = await startWebServer({
    rendererDir: ui,
    createHost: () => createLabHost({ mode: 'web', version: 'test', roots: [{ name: 'work', path: join(dir, 'work') }], dataDir: join(dir, 'data') }),
  });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Tries to open a WebSocket; resolves with the socket or the HTTP status it was refused with. */
function connect(opts: { token?: string; origin?: string; host?: string; client?: string } = {}): Promise<WebSocket | number> {
  const token = opts.token ?? server.token;
  const client = opts.client ?? 'client-0001';
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${encodeURIComponent(token)}&client=${client}`, {
    origin: opts.origin ?? `http://127.0.0.1:${server.port}`,
    headers: opts.host === undefined ? {} : { Host: opts.host },
  });
  return new Promise((resolve) => {
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

/** A minimal contract client over a socket. */
function client(ws: WebSocket) {
  let next = 1;
  const waiting = new Map<number, (r: WireResponse) => void>();
  const events: WireEvent[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as WireResponse | WireEvent;
    if ('event' in m) events.push(m);
    else waiting.get(m.id)?.(m);
  });
  return {
    events,
    call(name: string, params: unknown): Promise<WireResponse> {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, name, params }));
      });
    },
    raw(text: string): Promise<WireResponse> {
      return new Promise((resolve) => {
        waiting.set(-1, resolve);
        ws.send(text);
      });
    },
  };
}

describe('http', () => {
  it('listens on 127.0.0.1 only, with a random token in the URL', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{32}$`));
  });

  it('serves the page only with the token, and the CSP on every response', async () => {
    const none = await get('/');
    expect(none.status).toBe(403);
    expect(none.body).toMatch(/carries a token/);
    expect(none.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const wrong = await get('/?token=nope');
    expect(wrong.status).toBe(403);
    const ok = await get(`/?token=${server.token}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<title>XenLab</title>');
    expect(ok.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    const asset = await get('/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/text\/javascript/);
    expect(asset.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it('uses the same Content-Security-Policy as the desktop app', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(MAIN_CSP);
  });

  it('refuses a request naming another host (DNS rebinding)', async () => {
    const r = await get(`/?token=${server.token}`, { Host: `evil.example:${server.port}` });
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/wrong Host/);
    expect((await get('/assets/app.js', { Host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('serves nothing outside the renderer folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e%5c..%5csecret.txt', '/%00', '/nope.js']) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });

  it('answers only GET and HEAD', async () => {
    expect((await get('/assets/app.js', {}, 'POST')).status).toBe(405);
    expect((await get('/assets/app.js', {}, 'HEAD')).status).toBe(200);
  });
});

describe('websocket', () => {
  it('refuses a connection without the token, from another origin, naming another host, or without a client id', async () => {
    expect(await connect({ token: 'wrong' })).toBe(403);
    expect(await connect({ token: '' })).toBe(403);
    expect(await connect({ origin: 'http://evil.example' })).toBe(403);
    expect(await connect({ origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403);
    expect(await connect({ host: `evil.example:${server.port}` })).toBe(403);
    expect(await connect({ client: 'x' })).toBe(400);
  });

  it('carries the contract: requests, errors for bad messages, and events', async () => {
    const ws = await connect({ client: 'contract-1' });
    expect(ws).toBeInstanceOf(WebSocket);
    const c = client(ws as WebSocket);
    const info = await c.call('app.info', {});
    expect(info).toMatchObject({ ok: true, result: { mode: 'web', version: 'test' } });
    expect(await c.raw('not json')).toMatchObject({ id: -1, ok: false, error: { code: 'bad-request' } });
    expect(await c.call('no.such', {})).toMatchObject({ ok: false, error: { code: 'bad-request', message: 'unknown request "no.such"' } });
    expect(await c.call('files.read', { path: join(dir, 'secret.txt') })).toMatchObject({ ok: false, error: { code: 'denied' } });
    expect(await c.call('files.pickOpen', { kind: 'scenario' })).toMatchObject({ ok: true, result: { path: null } });
    const open = await c.call('session.open', { file: 'plan9-boot.yaml', text: PLAN9, lang: 'yaml' });
    expect(open).toMatchObject({ ok: true, result: { ok: true } });
    await c.call('session.control', { action: 'step' });
    const text = c.events
      .filter((e) => e.event === 'session.console' && (e.payload as { domid: number }).domid === 1)
      .map((e) => new TextDecoder().decode(fromBase64((e.payload as { data: string }).data)))
      .join('');
    expect(text).toContain('Plan 9 from Bell Labs');
    (ws as WebSocket).close();
  });

  it('keeps a page\'s session when its connection drops, and gives it back when it reconnects', async () => {
    const ws1 = (await connect({ client: 'comeback-1' })) as WebSocket;
    const c1 = client(ws1);
    await c1.call('session.open', { file: 'plan9-boot.yaml', text: PLAN9, lang: 'yaml' });
    await c1.call('session.control', { action: 'step' });
    await c1.call('session.control', { action: 'step' });
    const closed = new Promise((r) => ws1.on('close', r));
    server.dropConnections();
    await closed;
    const ws2 = (await connect({ client: 'comeback-1' })) as WebSocket;
    const c2 = client(ws2);
    const sync = await c2.call('session.sync', { traceFrom: 0 });
    expect(sync).toMatchObject({ ok: true, result: { session: { name: 'Plan 9 boots on Xen 2.0' }, status: { position: 2 } } });
    // Another page has a session of its own.
    const ws3 = (await connect({ client: 'another-1' })) as WebSocket;
    expect(await client(ws3).call('session.sync', { traceFrom: 0 })).toMatchObject({ ok: true, result: { session: null } });
    ws2.close();
    ws3.close();
  });
});
