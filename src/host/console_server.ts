/**
 * Each domain's console on a loopback TCP port, as Xen 2.0's xend offered
 * it (CONSOLE_PORT_BASE 9600 + domid; `telnet localhost 9601`). A terminal
 * client (nc, telnet) gets what the console showed before it attached, then
 * its output as it comes; what it sends is typed at the console. Several
 * clients may share one console: all see the output, any may type.
 *
 * Listens on 127.0.0.1 only. The session's virtual clock is paced by the
 * wall clock (every `tickMs` of real time, `tickMs` of virtual time) unless
 * pacing is turned off and the caller advances it.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LiveError, type ConsoleKind, type LiveSession } from '../scenario/live.js';

/** xend's CONSOLE_PORT_BASE (tools/python/xen/xend/server/params.py). */
export const DEFAULT_CONSOLE_PORT_BASE = 9600;
const HOST = '127.0.0.1';
/** A client that reads nothing is dropped when this much output waits for it. */
const MAX_CLIENT_BACKLOG = 4 << 20;
/** Pacing never runs more than this much virtual time at once (after a stall, say). */
const MAX_TICK_MS = 250;

export interface ConsoleServerOptions {
  /** Port of domain 0's console; domain N listens on base + N. 0: free ports chosen by the system. Default 9600. */
  base?: number;
  /** Wall-clock pacing period in ms (10 by default); 0 leaves the clock to the caller. */
  tickMs?: number;
  /** Called if the simulation throws while paced; pacing stops and the clients are told. */
  onError?: (e: unknown) => void;
}

/** One console's listener. */
export interface ConsolePort {
  readonly name: string;
  readonly domid: number;
  readonly kind: ConsoleKind;
  readonly host: string;
  readonly port: number;
}

export type ConsoleServerErrorCode = 'range' | 'in-use' | 'denied' | 'listen';

export class ConsoleServerError extends Error {
  constructor(
    readonly code: ConsoleServerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleServerError';
  }
}

/** Checks a base port for the consoles of domains up to `maxDomid`; a message for a person if it cannot be used. */
export function checkPortBase(base: number, maxDomid: number): string | undefined {
  if (!Number.isInteger(base) || base < 0 || base > 65535) return `the console port base must be a whole number from 1 to 65535 (or 0 for free ports), found ${base}`;
  if (base !== 0 && base + maxDomid > 65535) return `console ports ${base}..${base + maxDomid} go past 65535 (the highest domid here is ${maxDomid}): choose a base up to ${65535 - maxDomid}`;
  return undefined;
}

/**
 * A telnet client's bytes as a guest's line discipline wants them: telnet
 * commands (IAC ...) and option negotiation are dropped, IAC IAC is a 0xff
 * byte, and the NVT's end of line (CR LF, or CR NUL for a bare CR) becomes
 * one CR, which the consoles' line input (core/guest/line_input.ts) and
 * dom0's shell take as Enter. A lone LF (nc on a cooked tty) passes as it is.
 * State is kept across chunks.
 */
export class TelnetInput {
  /** 0 data, 1 after IAC, 2 after IAC WILL/WONT/DO/DONT, 3 in a subnegotiation, 4 after IAC in one. */
  private state = 0;
  private afterCr = false;

  feed(chunk: Uint8Array): Uint8Array {
    const out = new Uint8Array(chunk.length);
    let n = 0;
    for (const b of chunk) {
      switch (this.state) {
        case 0:
          if (b === IAC) {
            this.state = 1;
            continue;
          }
          break;
        case 1:
          this.state = b === SB ? 3 : b >= WILL && b <= DONT ? 2 : 0;
          if (b !== IAC) continue; // IAC IAC: a data byte 0xff
          break;
        case 2:
          this.state = 0;
          continue;
        case 3:
          if (b === IAC) this.state = 4;
          continue;
        case 4:
          this.state = b === SE ? 0 : 3;
          continue;
      }
      if (this.afterCr && (b === 0x0a || b === 0x00)) {
        this.afterCr = false;
        continue;
      }
      this.afterCr = b === 0x0d;
      out[n++] = b;
    }
    return out.subarray(0, n);
  }
}
const IAC = 255;
const DONT = 254;
const WILL = 251;
const SB = 250;
const SE = 240;

/** Runs the session's clock by the wall clock: every `tickMs`, the real time that passed. Returns a function that stops it. */
export function paceByWallClock(session: LiveSession, tickMs: number, onError: (e: unknown) => void): () => void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const ms = Math.min(now - last, MAX_TICK_MS);
    last = now;
    try {
      session.advance(Math.round(ms * 1e6));
    } catch (e) {
      clearInterval(timer);
      onError(e);
    }
  }, tickMs);
  return () => clearInterval(timer);
}

interface Listener {
  readonly info: ConsolePort;
  readonly server: Server;
  readonly clients: Set<Socket>;
  unsubscribe: (() => void)[];
  closed: boolean;
}

export class ConsoleServer {
  private readonly listeners = new Map<number, Listener>();
  private stopClock: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly session: LiveSession,
    private readonly onError: (e: unknown) => void,
  ) {}

  /**
   * Listens for every console the session has (destroyed ones aside), on
   * base + domid of 127.0.0.1. Rejects with a ConsoleServerError (nothing
   * left listening) when a port is out of range, in use or not allowed.
   */
  static async start(session: LiveSession, opts: ConsoleServerOptions = {}): Promise<ConsoleServer> {
    const base = opts.base ?? DEFAULT_CONSOLE_PORT_BASE;
    const consoles = session.consoles().filter((c) => c.alive);
    const bad = checkPortBase(base, Math.max(0, ...consoles.map((c) => c.domid)));
    if (bad !== undefined) throw new ConsoleServerError('range', bad);
    const tickMs = opts.tickMs ?? 10;
    if (!Number.isFinite(tickMs) || tickMs < 0) throw new ConsoleServerError('range', `tickMs must be a number of milliseconds >= 0, found ${tickMs}`);
    const cs = new ConsoleServer(session, opts.onError ?? rethrow);
    try {
      for (const c of consoles) {
        const server = createServer({ noDelay: true });
        const port = await listen(server, base === 0 ? 0 : base + c.domid);
        const l: Listener = { info: { name: c.name, domid: c.domid, kind: c.kind, host: HOST, port }, server, clients: new Set(), unsubscribe: [], closed: false };
        cs.listeners.set(c.domid, l);
        server.on('connection', (s) => cs.attach(l, s));
        server.on('error', (e) => cs.onError(e));
        l.unsubscribe.push(
          session.onOutput(c.domid, (b) => cs.broadcast(l, b)),
          session.onGone(c.domid, (msg) => void cs.shut(l, `${msg}; its console is closed`)),
        );
      }
    } catch (e) {
      await cs.close();
      throw e;
    }
    if (tickMs > 0) cs.stopClock = paceByWallClock(session, tickMs, (e) => cs.failed(e));
    return cs;
  }

  /** Every console's listener, by domid. */
  get ports(): ConsolePort[] {
    return [...this.listeners.values()].map((l) => l.info).sort((a, b) => a.domid - b.domid);
  }

  /** The listening socket's address for a domain's console (undefined once it is closed). */
  address(domid: number): AddressInfo | undefined {
    const l = this.listeners.get(domid);
    if (l === undefined || l.closed) return undefined;
    return l.server.address() as AddressInfo;
  }

  /** Stops the clock, tells each client, closes every socket and listener. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopClock?.();
      await Promise.all([...this.listeners.values()].map((l) => this.shut(l, 'xenlab is shutting down')));
    })();
    return this.closing;
  }

  private attach(l: Listener, s: Socket): void {
    if (l.closed) {
      s.destroy();
      return;
    }
    const domid = l.info.domid;
    const input = new TelnetInput();
    s.on('error', () => s.destroy()); // a reset by the client: it is simply gone
    s.on('close', () => l.clients.delete(s));
    l.clients.add(s);
    s.write(this.session.output(domid));
    s.on('data', (chunk: Buffer) => {
      if (l.closed) return;
      const bytes = input.feed(chunk);
      if (bytes.length === 0) return;
      try {
        const accepted = this.session.type(domid, bytes);
        if (accepted < bytes.length) notice(s, `${l.info.name}'s console input is full: ${bytes.length - accepted} of ${bytes.length} bytes dropped`);
      } catch (e) {
        if (e instanceof LiveError) notice(s, e.message);
        else this.failed(e);
      }
    });
  }

  private broadcast(l: Listener, bytes: Uint8Array): void {
    for (const s of l.clients) {
      if (s.writableLength > MAX_CLIENT_BACKLOG) s.destroy();
      else s.write(bytes);
    }
  }

  /** Closes a console's listener and clients, each told why. */
  private shut(l: Listener, why: string): Promise<void> {
    if (l.closed) return Promise.resolve();
    l.closed = true;
    for (const u of l.unsubscribe) u();
    const done = [...l.clients].map(
      (s) =>
        new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          if (s.destroyed) return resolve();
          s.end(`\r\n[xenlab: ${why}]\r\n`, () => s.destroy());
          setTimeout(() => s.destroy(), 1000).unref(); // a client that reads nothing does not hold us up
        }),
    );
    done.push(new Promise<void>((resolve) => l.server.close(() => resolve())));
    return Promise.all(done).then(() => undefined);
  }

  private failed(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    for (const l of this.listeners.values()) void this.shut(l, `the simulation stopped: ${msg}`);
    this.onError(e);
  }
}

/** Without an onError, a failure of the simulation is an uncaught exception, as it would be anywhere else. */
function rethrow(e: unknown): void {
  setImmediate(() => {
    throw e instanceof Error ? e : new Error(String(e));
  });
}

function notice(s: Socket, text: string): void {
  if (!s.destroyed && s.writable) s.write(`\r\n[xenlab: ${text}]\r\n`);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const where = `${HOST}:${port}`;
      if (e.code === 'EADDRINUSE') reject(new ConsoleServerError('in-use', `${where} is already in use (another xenlab or program listens there): choose another --console-port base, or 0 for free ports`));
      else if (e.code === 'EACCES') reject(new ConsoleServerError('denied', `not allowed to listen on ${where} (ports below 1024 need privileges): choose another --console-port base`));
      else reject(new ConsoleServerError('listen', `cannot listen on ${where}: ${e.message}`));
    };
    server.once('error', onError);
    server.listen({ host: HOST, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
